"""The terminal report: exact text at a fixed width, on hand-built reports (no TensorFlow)."""

from __future__ import annotations

from gradflow.analysis import PathCount
from gradflow.render.terminal import GROUP_THRESHOLD, render_text
from gradflow.report import Blocker, Report, Status, StopGradientReport, VariableReport
from gradflow.sources import Location

SG = Blocker("StopGradient", "StopGradient", Location("examples/stop_gradient.py", 14), "tf.stop_gradient", "stop_gradient")


def var(name, status, *, norm=None, blockers=(), why="", trainable=True, paths=PathCount(1, 0)):
    return VariableReport(name=name, shape=(5, 1), dtype="float32", trainable=trainable, status=Status(status),
                          grad_norm=norm, paths=paths, blockers=tuple(blockers), why=why)


def canonical() -> Report:
    why = "tf.stop_gradient at examples/stop_gradient.py:14"
    return Report(
        source="examples/stop_gradient.py", target="loss", kind="callable", inputs="example_inputs: (float32[8, 5])",
        variables=(
            var("w1", "flows", norm=4.0712),
            var("w2", "blocked", blockers=[SG], why=why, paths=PathCount(1, 1)),
            var("w3", "blocked", blockers=[SG], why=why, paths=PathCount(1, 1)),
        ),
        stop_gradients=(StopGradientReport("StopGradient", SG.location, ("w2", "w3")),),
    )


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_canonical_report_exact_text():
    expected = """\
gradflow  examples/stop_gradient.py  target loss (callable)
inputs: example_inputs: (float32[8, 5])

variable ┃ shape  ┃ trainable ┃ status    ┃ grad norm ┃ why
━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
w1       │ [5, 1] │ yes       │ ✓ flows   │      4.07 │
w2       │ [5, 1] │ yes       │ ✗ blocked │         - │ tf.stop_gradient at examples/stop_gradient.py:14
w3       │ [5, 1] │ yes       │ ✗ blocked │         - │ tf.stop_gradient at examples/stop_gradient.py:14

StopGradient op ┃ location                     ┃ shields
━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━
StopGradient    │ examples/stop_gradient.py:14 │ w2, w3

1 of 3 trainable variables receive gradient  ·  1 flows, 2 blocked"""
    assert lines(render_text(canonical(), width=120)) == expected.splitlines()


def test_names_are_text_not_markup():
    report = canonical()
    hostile = var("[bold red]x[/] <script>", "disconnected", why="the loss never reads it")
    report = Report(**{**report.__dict__, "variables": report.variables + (hostile,)})
    text = render_text(report, width=120)
    assert "[bold red]x[/] <script>" in text


def test_large_models_are_grouped_by_scope():
    variables = [var(f"block{i // 5}/dense{i % 5}/kernel", "flows", norm=1.0) for i in range(50)]
    variables[7] = var("block1/dense2/kernel", "blocked", blockers=[SG], why="tf.stop_gradient at x.py:3")
    report = Report(source="big.py", target="loss", kind="keras", inputs="", variables=tuple(variables),
                    stop_gradients=())
    assert len(variables) > GROUP_THRESHOLD
    text = render_text(report, width=120)
    assert "block1" in text and "1 blocked, 4 flows" in text
    assert "trainable variables that do not learn (1):" in text
    assert "50 variables grouped by scope; --all lists every one." in text
    assert "block9/dense4/kernel" not in text
    full = render_text(report, width=120, show_all=True)
    assert "block9/dense4/kernel" in full
