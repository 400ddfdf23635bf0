"""``gradflow docs --shard K/N`` and ``--merge PART... -o SITE``: the merged site is the unsharded site, byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gradflow.cli import main
from gradflow.sharding import PART_FILE, parse_shard, shard_of
from gradflow.errors import UsageError

CASES = Path(__file__).resolve().parent / "diff_cases"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _models(tmp_path: Path) -> Path:
    models = tmp_path / "models"
    (models / "sub").mkdir(parents=True)
    shutil.copy(CASES / "before.py", models / "learns.py")
    shutil.copy(CASES / "after_stop_gradient.py", models / "sub" / "frozen.py")
    shutil.copy(CASES / "after_head_detached.py", models / "detached.py")
    (models / "broken.py").write_text("raise RuntimeError('this model is broken')\n")
    return models


@pytest.mark.parametrize("fmt", ["html", pytest.param("markdown", marks=pytest.mark.slow)])
def test_sharded_site_merges_into_the_unsharded_bytes(tmp_path, monkeypatch, fmt):
    models = _models(tmp_path)
    monkeypatch.chdir(tmp_path)
    fmt_args = ["--format", fmt]
    assert main(["docs", "models", "-o", "full", "-j", "1", *fmt_args]) == 1  # broken.py fails
    assert main(["docs", "models", "--shard", "1/3", "-o", "p1", "-j", "1", *fmt_args]) in (0, 1)
    assert main(["docs", "models", "--shard", "2/3", "-o", "p2", "-j", "1", *fmt_args]) in (0, 1)
    assert main(["docs", "models", "--shard", "3/3", "-o", "p3", "-j", "1", *fmt_args]) in (0, 1)
    for part in ("p1", "p2", "p3"):
        assert not (tmp_path / part / ("index.md" if fmt == "markdown" else "index.html")).exists()
    assert main(["docs", "--merge", "p3", "p1", "p2", "-o", "merged"]) == 1  # the broken model still fails
    full, merged = _tree(tmp_path / "full"), _tree(tmp_path / "merged")
    assert sorted(full) == sorted(merged)
    assert full == merged
    assert len([n for n in full if not n.startswith(".")]) == (4 * 2 - 1 + 1 if fmt == "markdown" else 4 + 1)


def _part(folder: Path, k: int, n: int, models=("a.py", "b.py"), fmt="html") -> str:
    folder.mkdir()
    part = {"schema": "gradflow.site-part/1", "format": fmt, "shard": [k, n], "models": list(models),
            "names": {m: m[:-3] for m in models}, "results": []}
    (folder / PART_FILE).write_text(json.dumps(part))
    return str(folder)


def test_merge_refuses_incomplete_or_mixed_parts(tmp_path, capsys):
    one = _part(tmp_path / "one", 1, 2)
    two = _part(tmp_path / "two", 2, 2)
    other = _part(tmp_path / "other", 2, 2, models=("a.py", "c.py"))
    out = str(tmp_path / "site")
    assert main(["docs", "--merge", one, "-o", out]) == 2
    assert "shard 2/2 missing" in capsys.readouterr().err
    assert main(["docs", "--merge", one, one, two, "-o", out]) == 2
    assert "given twice" in capsys.readouterr().err
    assert main(["docs", "--merge", one, other, "-o", out]) == 2
    assert "different models" in capsys.readouterr().err
    assert main(["docs", "--merge", one, two, "-o", out]) == 2  # results absent: build again
    assert "no result for a.py" in capsys.readouterr().err
    assert main(["docs", "--merge", str(tmp_path), "-o", out]) == 2
    assert f"no {PART_FILE}" in capsys.readouterr().err
    assert main(["docs", "-o", out]) == 2
    assert main(["docs", "x.py", "--merge", one, "-o", out]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_parse_shard_and_shard_of():
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/2", "3/2", "2", "a/b", "1/0"):
        with pytest.raises(UsageError):
            parse_shard(bad)
    models = [f"m{i}" for i in range(7)]
    parts = [shard_of(models, k, 3) for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == models and all(parts)
