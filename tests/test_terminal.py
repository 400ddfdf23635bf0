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


FIX = "intended? remove tf.stop_gradient at examples/stop_gradient.py:14 to let w2, w3 learn"
SGF = Blocker("StopGradient", "StopGradient", Location("examples/stop_gradient.py", 14), "tf.stop_gradient",
              "stop_gradient", fix=FIX, origin="user")


def canonical(*, fixes: bool = False) -> Report:
    why = "tf.stop_gradient at examples/stop_gradient.py:14"
    sg = SGF if fixes else SG
    extra = (var("bn/moving_mean", "disconnected", trainable=False, why="the loss never reads it"),) if fixes else ()
    return Report(
        source="examples/stop_gradient.py", target="loss", kind="callable", inputs="example_inputs: (float32[8, 5])",
        variables=(
            var("w1", "flows", norm=4.0712),
            var("w2", "blocked", blockers=[sg], why=why, paths=PathCount(1, 1)),
            var("w3", "blocked", blockers=[sg], why=why, paths=PathCount(1, 1)),
        ) + extra,
        stop_gradients=(StopGradientReport("StopGradient", SG.location, ("w2", "w3")),),
    )


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_canonical_report_exact_text_200_columns():
    expected = """\
gradflow  examples/stop_gradient.py  target loss (callable)
inputs: example_inputs: (float32[8, 5])

✗ 2 of 3 trainable variables get no gradient

variable ┃ shape  ┃ trainable ┃ status    ┃ grad norm ┃ why
━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
w1       │ [5, 1] │ yes       │ ✓ flows   │      4.07 │
w2       │ [5, 1] │ yes       │ ✗ blocked │         - │ tf.stop_gradient at examples/stop_gradient.py:14
w3       │ [5, 1] │ yes       │ ✗ blocked │         - │ tf.stop_gradient at examples/stop_gradient.py:14

cuts you wrote:
  tf.stop_gradient at examples/stop_gradient.py:14 · every path of w2, w3"""
    assert lines(render_text(canonical(), width=200)) == expected.splitlines()


def test_canonical_report_exact_text_80_columns_folds_why_and_indents_fixes():
    expected = """\
gradflow  examples/stop_gradient.py  target loss (callable)
inputs: example_inputs: (float32[8, 5])

✗ 2 of 3 trainable variables get no gradient

variable       ┃ shape  ┃ trainable ┃ status         ┃ grad norm
━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━━
w1             │ [5, 1] │ yes       │ ✓ flows        │      4.07
w2             │ [5, 1] │ yes       │ ✗ blocked      │         -
    tf.stop_gradient at examples/stop_gradient.py:14
w3             │ [5, 1] │ yes       │ ✗ blocked      │         -
    tf.stop_gradient at examples/stop_gradient.py:14
bn/moving_mean │ [5, 1] │ no        │ - disconnected │         -
    the loss never reads it

fixes:
  w2, w3 · StopGradient at examples/stop_gradient.py:14: intended? remove
    tf.stop_gradient at examples/stop_gradient.py:14 to let w2, w3 learn

cuts you wrote:
  tf.stop_gradient at examples/stop_gradient.py:14 · every path of w2, w3

expected: 1 BatchNormalization moving statistic: not trainable, updated by
  assign"""
    assert lines(render_text(canonical(fixes=True), width=80)) == expected.splitlines()


def test_no_line_splits_a_path_or_a_name():
    report = canonical(fixes=True)
    for width in (60, 80, 100, 200):
        text = render_text(report, width=width)
        assert max(len(line.rstrip()) for line in text.splitlines()) <= width
        for token in ("examples/stop_gradient.py:14", "bn/moving_mean", "tf.stop_gradient"):
            assert text.count(token) == render_text(report, width=400).count(token), (width, token)


def test_names_are_text_not_markup():
    report = canonical()
    hostile = var("[bold red]x[/] <script>", "disconnected", why="the loss never reads it")
    report = Report(**{**report.__dict__, "variables": report.variables + (hostile,)})
    text = render_text(report, width=120)
    assert "[bold red]x[/] <script>" in text


def test_large_models_list_only_the_problems_first():
    variables = [var(f"block{i // 5}/dense{i % 5}/kernel", "flows", norm=1.0) for i in range(50)]
    variables[7] = var("block1/dense2/kernel", "blocked", blockers=[SG], why="tf.stop_gradient at x.py:3")
    variables += [var(f"block{i}/bn/moving_mean", "disconnected", trainable=False) for i in range(10)]
    report = Report(source="big.py", target="loss", kind="keras", inputs="x", variables=tuple(variables),
                    stop_gradients=())
    assert len(variables) > GROUP_THRESHOLD
    out = lines(render_text(report, width=120))
    assert out[3] == "✗ 1 of 50 trainable variables gets no gradient"
    assert out[5] == "trainable variables that do not learn (1):"
    assert out[8].startswith("block1/dense2/kernel │ [5, 1] │ ✗ blocked │ StopGradient at examples/stop_gradient.py:14")
    assert "expected: 10 BatchNormalization moving statistics: not trainable, updated by assign" in out
    assert "60 variables in 60 layers: --layers shows the layers, --all every variable." in out
    assert len(out) < 20
    assert "block9/dense4/kernel" not in "\n".join(out)
    full = render_text(report, width=120, show_all=True)
    assert "block9/dense4/kernel" in full
    layered = lines(render_text(report, width=120, layers=True))
    assert any(line.startswith("block1/dense2 │ -     │      5 │ ✗ 1 blocked") for line in layered), layered


def test_healthy_report_has_no_problem_sections():
    variables = [var(f"l{i}/kernel", "flows", norm=1.0) for i in range(60)]
    report = Report(source="ok.py", target="loss", kind="keras", inputs="x", variables=tuple(variables),
                    stop_gradients=())
    out = lines(render_text(report, width=120))
    assert out[3] == "✓ all 60 trainable variables learn"
    assert not any("fixes" in line or "do not learn" in line for line in out)


def test_repr_is_short():
    report = canonical(fixes=True)
    assert repr(report).splitlines()[0] == ("<gradflow.Report loss in examples/stop_gradient.py: "
                                            "2 of 3 trainable variables get no gradient>")
    assert len(repr(report)) < 2000


def test_a_non_finite_loss_comes_first():
    from gradflow.schema import LossValue, OpRef

    loss = LossValue(None, False, OpRef("Log", "Log", Location("m.py", 7), "log of 0"))
    report = Report(source="m.py", target="loss", kind="callable", inputs="x",
                    variables=(var("w", "nonfinite", why="NaN in the gradient"),), stop_gradients=(), loss=loss,
                    notes=("the loss is NaN or Inf on the example inputs: first at Log at m.py:7",))
    out = lines(render_text(report, width=120))
    assert out[3] == "! 1 of 1 trainable variable does not learn; the loss is not finite"
    assert out[4] == ("  the loss is not finite on the example inputs; it first turns non-finite in Log at m.py:7 "
                      "(log of 0)")
    assert not any(line.startswith("note: the loss is NaN") for line in out)


def test_problems_stand_above_a_table_too_long_to_see_them_in():
    # 14 flowing variables, then the one that does not learn: it is listed first, then the whole table.
    flowing = tuple(var(f"layer_{i}/kernel", "flows", norm=1.0) for i in range(14))
    head = var("value_head/kernel", "disconnected", why="the loss never reads it", paths=PathCount(0, 0))
    report = Report(source="m.py", target="loss", kind="callable", inputs="", variables=flowing + (head,), stop_gradients=())
    out = lines(render_text(report, width=100))
    first = out.index("trainable variables that do not learn (1):")
    assert out.index("all variables:") > first
    rows = [i for i, line in enumerate(out) if line.startswith("value_head/kernel")]
    assert len(rows) == 2 and rows[0] < out.index("all variables:") < rows[1]
    # A short table shows its problems in place: no separate list.
    short = Report(source="m.py", target="loss", kind="callable", inputs="", variables=flowing[:3] + (head,),
                   stop_gradients=())
    text = render_text(short, width=100)
    assert "do not learn (" not in text and "all variables:" not in text and text.count("value_head/kernel") == 1
