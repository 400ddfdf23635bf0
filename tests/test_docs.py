"""The reference docs stay true: docs/cli.md against the real parser, docs/json.md against real JSON.

- docs/cli.md's generated ``--help`` blocks equal what ``python -m gradflow CMD --help``
  prints in an 80-column terminal (regenerate with ``python scripts/make_cli_docs.py``);
- every command has a section, and every flag of every command is explained in the
  hand-written part of its section (not only in the generated block);
- every field of the real ``gradflow.report/1`` and ``gradflow.train/1`` output for the
  canonical example is listed in docs/json.md, the listed top-level and per-variable
  fields are exactly the real ones, and the JSON examples there have the real fields;
- docs/README.md indexes every docs/*.md.

The CLI checks import no TensorFlow (``--help`` is lazy); the JSON checks run the
canonical example once in-process (a few seconds, most of it importing TensorFlow).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_MD = DOCS / "cli.md"
JSON_MD = DOCS / "json.md"
CANONICAL = "examples/stop_gradient.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_cli_docs", ROOT / "scripts" / "make_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_cli_docs = _load_script()


def _parser() -> argparse.ArgumentParser:
    from gradflow.cli import build_parser

    return build_parser()


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """``{"gradflow": parser, "gradflow inspect": ..., ...}``."""
    out = {"gradflow": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            out.update({f"gradflow {name}": sub for name, sub in action.choices.items()})
    return out


def _doc_blocks(doc: str) -> dict[str, str]:
    """Command -> the text inside its generated ```text fence in docs/cli.md."""
    blocks = {}
    for m in make_cli_docs.BLOCK.finditer(doc):
        body = m.group("body")
        assert body.startswith("```text\n") and body.endswith("```\n"), \
            f"docs/cli.md: the help block of {m.group('command')} must be one ```text fence"
        assert m.group("command") not in blocks, f"docs/cli.md: two help blocks for {m.group('command')}"
        blocks[m.group("command")] = body[len("```text\n"):-len("```\n")]
    return blocks


def _sections(doc: str) -> dict[str, str]:
    """``## `gradflow CMD` `` section -> its hand-written text (generated blocks removed)."""
    human = make_cli_docs.BLOCK.sub("", doc)
    parts = re.split(r"^## (.*?)\s*$", human, flags=re.MULTILINE)
    sections = {}
    for heading, text in zip(parts[1::2], parts[2::2]):
        m = re.fullmatch(r"`(gradflow(?: [a-z-]+)?)`", heading)
        if m:
            sections[m.group(1)] = text
    return sections


def _documented_python() -> tuple[int, int]:
    m = make_cli_docs.VERSION_LINE.search(CLI_MD.read_text(encoding="utf-8"))
    assert m, "docs/cli.md: no '<!-- generated with Python X.Y ... -->' line"
    major, minor = m.group("version").split(".")
    return int(major), int(minor)


# ---------------------------------------------------------------------------
# docs/cli.md


def test_cli_md_has_a_help_block_and_a_section_per_command():
    doc = CLI_MD.read_text(encoding="utf-8")
    commands = list(_subparsers(_parser()))
    assert commands[1:], "the parser has no subcommands?"
    assert sorted(_doc_blocks(doc)) == sorted(commands)
    assert sorted(_sections(doc)) == sorted(commands)


@pytest.mark.skipif(sys.version_info[:2] != _documented_python(),
                    reason="argparse lays out --help differently in other Python versions; "
                           "docs/cli.md records the version it was generated with")
def test_cli_md_help_blocks_are_the_real_help():
    """What a user sees: ``python -m gradflow CMD --help`` in an 80-column terminal."""
    blocks = _doc_blocks(CLI_MD.read_text(encoding="utf-8"))
    env = dict(os.environ, COLUMNS=str(make_cli_docs.COLUMNS))
    env.pop("LINES", None)
    stale = []
    for command, documented in blocks.items():
        proc = subprocess.run([sys.executable, "-m", "gradflow", *command.split()[1:], "--help"],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stderr
        if proc.stdout != documented:
            stale.append(command)
    assert not stale, (f"docs/cli.md: the --help of {', '.join(stale)} changed; "
                       "regenerate with `python scripts/make_cli_docs.py` (or `make docs`)")


@pytest.mark.skipif(sys.version_info[:2] != _documented_python(),
                    reason="argparse lays out --help differently in other Python versions")
def test_make_cli_docs_check_passes():
    """The generator (the in-process path `make docs` takes) agrees with the committed file."""
    assert make_cli_docs.main(["--check"]) == 0


def test_make_cli_docs_does_not_depend_on_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    wide = make_cli_docs.help_text("gradflow inspect")
    monkeypatch.setenv("COLUMNS", "40")
    assert make_cli_docs.help_text("gradflow inspect") == wide
    assert os.environ["COLUMNS"] == "40"  # restored
    assert max(len(line) for line in wide.splitlines()) <= make_cli_docs.COLUMNS


def test_every_flag_is_explained_in_its_section():
    """Each option string and positional of each command, in the hand-written part of its section."""
    sections = _sections(CLI_MD.read_text(encoding="utf-8"))
    missing = []
    for command, parser in _subparsers(_parser()).items():
        text = sections.get(command, "")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if isinstance(action, argparse._HelpAction) and command != "gradflow":
                continue  # -h/--help: explained once, for `gradflow`
            names = action.option_strings or [action.metavar or action.dest]
            for name in names:
                if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
                    missing.append(f"{command} {name}")
    assert not missing, f"docs/cli.md explains no {', '.join(missing)} (outside the generated --help)"


def test_cli_md_names_every_exit_code():
    doc = CLI_MD.read_text(encoding="utf-8")
    table = doc.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)}
    source = (ROOT / "src" / "gradflow" / "cli.py").read_text(encoding="utf-8")
    used = {int(m) for m in re.findall(r"\breturn (\d+)\b(?! \+)", source)} | {0, 1, 2, 3}
    if "128 + " in source:  # 128 + signal number: SIGINT and SIGTERM
        used |= {130, 143}
    assert used <= codes, f"exit codes in cli.py that docs/cli.md does not list: {sorted(used - codes)}"


# ---------------------------------------------------------------------------
# docs/json.md


def _field_rows(section: str) -> dict[str, str]:
    """Field path -> the rest of its table row, for every `path` in the first cell of a row."""
    rows = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = line.split(" | ")
        first = cells[0].lstrip("| ")
        for path in re.findall(r"`([^`]+)`", first):
            rows[path] = rows.get(path, "") + " | ".join(cells[1:])
    return rows


def _json_sections() -> dict[str, str]:
    doc = JSON_MD.read_text(encoding="utf-8")
    parts = re.split(r"^## `(gradflow\.[a-z]+/\d+)`\s*$", doc, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def _paths(obj, prefix: str = ""):
    """Every field path of a JSON value: ``variables[].blockers[].location.file``."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from _paths(value, path)
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, (dict, list)):
                yield from _paths(item, prefix + "[]")


def _undocumented(real: dict, rows: dict[str, str]) -> list[str]:
    """Paths of ``real`` neither listed as a row nor named (`leaf`) in their parent's row.

    Every ``location``/``created_at`` object is described once, by the ``location`` row.
    """
    missing = []
    for path in sorted(set(_paths(real))):
        if path in rows:
            continue
        parent, _, leaf = path.rpartition(".")
        if re.search(r"(?:^|\.)(location|created_at)$", parent):
            parent = "location"
        if parent in rows and f"`{leaf}`" in rows[parent]:
            continue
        missing.append(path)
    return missing


def _examples(section: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)]


@pytest.fixture(scope="module")
def real_json():
    """The canonical example's report and a 2-step training run, as the CLI writes them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cwd = os.getcwd()
    os.chdir(ROOT)  # source paths read examples/..., as in the docs
    try:
        from gradflow.api import inspect_file
        from gradflow.training.run import train_file

        report = json.loads(inspect_file(CANONICAL).to_json())
        run = json.loads(train_file(CANONICAL, steps=2).to_json())
    finally:
        os.chdir(cwd)
    return {"gradflow.report/1": report, "gradflow.train/1": run}


@pytest.mark.parametrize("schema", ["gradflow.report/1", "gradflow.train/1"])
def test_json_md_lists_every_field_of_the_real_output(real_json, schema):
    real = real_json[schema]
    assert real["schema"] == schema
    section = _json_sections()[schema]
    rows = _field_rows(section)
    missing = _undocumented(real, rows)
    assert not missing, f"docs/json.md ({schema}) does not document: {', '.join(missing)}"

    # No stale rows at the levels every output has in full.
    def level(paths, prefix):
        return {p[len(prefix):] for p in paths if p.startswith(prefix) and not re.search(r"[.\[]", p[len(prefix):])}

    listed = set(rows) - {"location"}  # the location type, described once
    assert level(listed, "") == set(real), f"docs/json.md ({schema}): top-level fields differ from the real output"
    real_variable = set().union(*(v.keys() for v in real["variables"]))
    assert level(listed, "variables[].") == real_variable, \
        f"docs/json.md ({schema}): per-variable fields differ from the real output"


@pytest.mark.parametrize("schema", ["gradflow.report/1", "gradflow.train/1"])
def test_json_md_examples_have_the_real_fields(real_json, schema):
    examples = _examples(_json_sections()[schema])
    assert len(examples) == 1, f"docs/json.md ({schema}): expected one ```json example"
    assert examples[0]["schema"] == schema
    assert set(_paths(examples[0])) == set(_paths(real_json[schema])), \
        f"docs/json.md ({schema}): the example's fields differ from the real output's"


# ---------------------------------------------------------------------------
# docs/README.md


def test_docs_index_lists_every_doc():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    present = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert not present - linked, f"docs/README.md does not list {sorted(present - linked)}"
