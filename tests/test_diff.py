"""``gradflow diff``: model pairs in tests/diff_cases/, checked against TensorFlow's autodiff.

Each pair is tests/diff_cases/before.py (every variable learns) and one
``after_*.py`` with one change: a stop_gradient added, a head detached, an
argmax introduced, a layer renamed, a variable removed. The regressions the
diff reports must be exactly the variables whose gradient TensorFlow
(tests/oracle.py) turns from a tensor into None. ``before_old_run.json`` is a
report as an older gradflow wrote it (none of the optional fields).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import gradflow
from gradflow.cli import main
from gradflow.diff import DIFF_SCHEMA, KINDS, diff_reports
from gradflow.render.diff_view import diff_digraph, diff_markdown, render_text
from oracle import tf_answer

CASES = Path(__file__).resolve().parent / "diff_cases"
PAIRS = ("stop_gradient", "head_detached", "argmax", "renamed", "removed")


@pytest.fixture(scope="module")
def reports():
    """Each case's report dict and TensorFlow's answer, computed once."""
    out = {}
    for stem in ["before"] + [f"after_{p}" for p in PAIRS]:
        path = str(CASES / f"{stem}.py")
        out[stem] = (gradflow.inspect_file(path).to_dict(), tf_answer(path))
    return out


def _diff(reports, pair):
    (before, _), (after, _) = reports["before"], reports[f"after_{pair}"]
    return diff_reports(before, after, before_name="before.py", after_name=f"after_{pair}.py")


def _tf_regressions(reports, pair) -> set:
    """Variables TensorFlow gives a gradient before and None after (the oracle's regressions)."""
    (_, tf_before), (_, tf_after) = reports["before"], reports[f"after_{pair}"]
    return {n for n, a in tf_after.items() if n in tf_before and a["none"] and not tf_before[n]["none"]}


@pytest.mark.parametrize("pair", PAIRS)
def test_regressions_are_tensorflows(reports, pair):
    d = _diff(reports, pair)
    assert {c.name for c in d.regressions} == _tf_regressions(reports, pair)
    assert all(c.kind in KINDS for c in d.changes)


def test_stop_gradient_added(reports):
    d = _diff(reports, "stop_gradient")
    (reg,) = d.regressions
    assert (reg.name, reg.before, reg.after) == ("encoder", "flows", "blocked")
    assert reg.why == "tf.stop_gradient at " + _line_of("after_stop_gradient.py", "tf.stop_gradient(")
    (cut,) = d.of_kind("cut-added")
    assert cut.name == "StopGradient" and "encoder" in cut.why


def test_head_detached(reports):
    (reg,) = _diff(reports, "head_detached").changes
    assert (reg.name, reg.after, reg.kind) == ("aux", "disconnected", "regression")
    assert reg.why == "the loss no longer reads it"


def test_argmax_introduced(reports):
    d = _diff(reports, "argmax")
    (reg,) = d.regressions
    assert reg.name == "head" and reg.after == "blocked"
    assert reg.why.startswith("ArgMax") and reg.why.endswith(_line_of("after_argmax.py", "tf.argmax("))
    # encoder and proj still learn through the other heads, but one path of each is now cut
    partial = {c.name for c in d.of_kind("cut-added")}
    assert partial == {"encoder", "proj"}
    tf_after = reports["after_argmax"][1]
    assert not any(tf_after[n]["none"] for n in partial)


def test_layer_renamed(reports):
    d = _diff(reports, "renamed")
    assert [(c.kind, c.name) for c in d.changes] == [("added", "projection"), ("removed", "proj")]
    assert "renamed from proj?" in d.changes[0].why and "renamed to projection?" in d.changes[1].why
    assert not d.regressions


def test_variable_removed(reports):
    d = _diff(reports, "removed")
    assert [(c.kind, c.name, c.before, c.after) for c in d.changes] == [("removed", "extra", "flows", None)]


def test_no_change_against_itself(reports):
    before = reports["before"][0]
    assert diff_reports(before, before).changes == ()


def test_improvement_is_the_reverse(reports):
    (before, _), (after, _) = reports["before"], reports["after_stop_gradient"]
    d = diff_reports(after, before)
    assert [(c.kind, c.name) for c in d.changes] == [("improvement", "encoder"), ("cut-removed", "StopGradient")]


def test_json_from_an_older_run(reports):
    old = json.loads((CASES / "before_old_run.json").read_text())
    assert "why" not in old["variables"][0] and "mode" not in old
    for pair in PAIRS:
        after = reports[f"after_{pair}"][0]
        new_side = diff_reports(reports["before"][0], after).to_dict()["changes"]
        old_side = diff_reports(old, after).to_dict()["changes"]
        assert old_side == new_side, pair


def test_json_is_the_contract(reports):
    d = _diff(reports, "stop_gradient").to_dict()
    assert list(d) == ["schema", "before", "after", "changes"] and d["schema"] == DIFF_SCHEMA
    for c in d["changes"]:
        assert list(c) == ["name", "before", "after", "kind", "why"]


def test_markdown_and_terminal(reports):
    d = _diff(reports, "stop_gradient")
    md = diff_markdown(d)
    assert md.startswith("### gradflow diff: `before.py` → `after_stop_gradient.py`\n")
    assert "**1 trainable variable stopped receiving gradient.**" in md
    assert "| ✗ | regression | `encoder` | flows | blocked | tf.stop\\_gradient at " in md
    from markdown_it import MarkdownIt  # as GitHub renders it: the escapes read as plain text

    html = MarkdownIt("commonmark").enable("table").render(md)
    assert "<td>tf.stop_gradient at " in html and "<code>encoder</code>" in html
    assert diff_markdown(diff_reports(reports["before"][0], reports["before"][0])).endswith("No gradient-flow changes.\n")
    text = render_text(d)
    assert "✗ regression" in text and "encoder" in text and "1 regression, 1 cut-added" in text


def test_markdown_escapes_pipes():
    before = {"variables": [{"name": "a|b", "status": "flows"}]}
    after = {"variables": [{"name": "a|b", "status": "blocked",
                            "blockers": [{"op": "x", "type": "T", "reason": "why | not", "location": None}]}]}
    md = diff_markdown(diff_reports(before, after))
    assert "`a\\|b`" in md and "why \\| not" in md


def test_markdown_and_terminal_are_inert_under_hostile_names():
    from markdown_it import MarkdownIt

    name = "<img src=x onerror=alert(1)>\n[x](javascript:alert(2))\x1b[31m"
    before = {"variables": [{"name": name, "status": "flows"}]}
    after = {"variables": [{"name": name, "status": "blocked", "blockers": [
        {"op": "x", "type": "T", "reason": "<script>alert(3)</script>", "location": {"file": "<b>m.py", "line": 3}}]}]}
    d = diff_reports(before, after)
    html = MarkdownIt("commonmark").enable("table").render(diff_markdown(d))
    assert "<img" not in html and "<script" not in html and "<b>" not in html and 'href="javascript' not in html
    assert html.count("<tr>") == 2  # the header and one change: no newline broke the table
    text = render_text(d)
    assert "\x1b" not in text and "\\x1b" in text  # escape sequences made visible, never sent


def test_picture_highlights_the_changes(reports):
    d = _diff(reports, "stop_gradient")
    source = diff_digraph(d).source
    assert source == diff_digraph(d).source  # deterministic
    assert re.search(r'encoder<BR/>flows → blocked>.*penwidth=4', source)
    assert "StopGradient<BR/>" in source and "proj<BR/>flows>" in source


def test_cli_exit_codes_and_outputs(tmp_path, capsys):
    before, after = str(CASES / "before_old_run.json"), str(CASES / "after_stop_gradient.py")
    out = tmp_path / "diff.svg"
    code = main(["diff", before, after, "--format", "json", "--markdown", str(tmp_path / "d.md"), "-o", str(out)])
    assert code == 1
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == DIFF_SCHEMA and d["changes"][0]["kind"] == "regression"
    assert (tmp_path / "d.md").read_text().startswith("### gradflow diff")
    if shutil.which("dot"):
        assert out.read_text().lstrip().startswith("<?xml")
    assert main(["diff", before, after, "--fail-on", "none", "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["diff", after, before, "--format", "json"]) == 0  # an improvement is no failure
    capsys.readouterr()
    assert main(["diff", after, before, "--format", "json", "--fail-on", "improvement,cut-removed"]) == 1


def test_cli_bad_input_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something/1"}')
    assert main(["diff", str(bad), str(CASES / "before_old_run.json")]) == 2
    assert "is not a gradflow report" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "missing.json"), str(CASES / "before_old_run.json")]) == 2
    assert main(["diff", str(CASES / "before_old_run.json"), str(CASES / "before_old_run.json"),
                 "--fail-on", "worse"]) == 2
    err = capsys.readouterr().err
    assert "unknown change kind worse" in err and "Traceback" not in err


def _line_of(name: str, needle: str) -> str:
    path = CASES / name
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)
    return f"{path}:{line}"
