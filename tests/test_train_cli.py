"""`gradflow train` on the command line, its JSON, and its plots (real TF, real matplotlib)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gradflow.cli import main
from gradflow.render.plots import figure_svg, layer_figure, layer_groups, trajectory_figure
from gradflow.render.theme import style_of
from gradflow.training.run import train_file

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "train_cases"
CANONICAL = str(ROOT / "examples" / "stop_gradient.py")


def case(name: str) -> str:
    return str(CASES / f"{name}.py")


def _no_nan_constants(text: str) -> dict:
    def reject(token: str) -> None:
        raise AssertionError(f"bare {token} in JSON")

    return json.loads(text, parse_constant=reject)


@pytest.fixture(scope="module")
def short_canonical():
    return train_file(CANONICAL, steps=100)


class TestCommandLine:
    def test_json_on_stdout_is_one_object(self, capsys, tmp_path):
        out, svg = tmp_path / "run.json", tmp_path / "traj.svg"
        code = main(["train", CANONICAL, "--steps", "20", "--format", "json", "--json", str(out),
                     "--plot", str(svg)])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        d = _no_nan_constants(captured.out)
        assert d["schema"] == "gradflow.train/1" and d["steps"] == 20 and len(d["loss"]) == 20
        assert _no_nan_constants(out.read_text()) == d
        assert [v["verdict"] for v in d["variables"]] == ["moved", "frozen", "frozen"]
        assert svg.read_text().startswith("<?xml")
        assert "step" in captured.err and "20/20" in captured.err  # the progress bar, on stderr

    def test_text_table(self, capsys):
        assert main(["train", case("zero_gradient"), "--steps", "5", "--optimizer", "rmsprop", "--lr", "0.01"]) == 0
        out = capsys.readouterr().out
        assert "5 steps of rmsprop (lr 0.01)" in out
        assert "dead" in out and "○ zero" in out and "✓ frozen" in out
        assert "1 moved, 1 frozen, 0 diverged" in out

    def test_flagged_rows_are_explained(self, capsys):
        assert main(["train", case("assign_in_loss"), "--steps", "3"]) == 0
        out = capsys.readouterr().out
        assert "⚠ moved" in out
        assert "shadow (blocked → moved)" in out
        assert "1 disagreement with inspect" in out

    @pytest.mark.parametrize("argv, words", [
        (["--steps", "0"], "argument --steps: '0': give a whole number, 1 or more"),
        (["--steps", "-3"], "argument --steps: '-3'"),
        (["--lr", "0"], "argument --lr: '0'"),
    ])
    def test_bad_option_values_exit_2_where_parsed(self, capsys, argv, words):
        with pytest.raises(SystemExit) as exc:
            main(["train", CANONICAL, *argv])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err

    def test_a_bad_plot_suffix_exits_2(self, capsys):
        assert main(["train", CANONICAL, "--plot", "traj.gif"]) == 2
        err = capsys.readouterr().err
        assert "TrainOptionsError" in err and "use a file name ending in .svg, .png or .pdf" in err

    def test_a_batch_that_does_not_fit_exits_2(self, capsys):
        assert main(["train", case("bad_batch"), "--steps", "3"]) == 2
        err = capsys.readouterr().err
        assert "TraceError" in err and "training step 2 of target `loss`" in err

    def test_missing_file_exits_2(self, capsys):
        assert main(["train", "no/such/model.py"]) == 2
        assert "no such file" in capsys.readouterr().err

    def test_real_process_canonical_200_steps(self, run_cli, tmp_path):
        svg = tmp_path / "traj.svg"
        proc = run_cli("train", "examples/stop_gradient.py", "--steps", "200", "--plot", str(svg),
                       "--format", "json")
        assert proc.returncode == 0, proc.stderr
        d = _no_nan_constants(proc.stdout)
        v = {x["name"]: x for x in d["variables"]}
        w1, w2, w3 = (np.array(v[n]["end"]["values"]) for n in ("w1", "w2", "w3"))
        assert np.max(np.abs(w1 - w2 * w3)) < 1e-5
        for name in ("w2", "w3"):
            assert v[name]["trajectory"]["values"] == [v[name]["start"]["values"]] * 201
        text = svg.read_text()
        assert "w1 · flows → moved (5 elements)" in text and "w2 · blocked → frozen (5 elements)" in text


class TestJSON:
    def test_nan_is_written_as_a_string(self):
        run = train_file(case("nan_midway"), steps=20)
        d = _no_nan_constants(run.to_json())
        r = next(v for v in d["variables"] if v["name"] == "r")
        assert r["grad"]["norm"][15] == "NaN" and r["first_nonfinite_grad_step"] == 16
        assert d["loss"][15] == "NaN" and d["first_nonfinite_step"] == 16
        assert r["verdict"] == "diverged" and r["agrees"] is False and r["static"]["status"] == "flows"

    def test_same_input_same_json_apart_from_timings(self, short_canonical):
        again = train_file(CANONICAL, steps=100)
        first, second = short_canonical.to_dict(), again.to_dict()
        first.pop("timings"), second.pop("timings")
        assert first == second
        assert set(short_canonical.to_dict()["timings"]) == {"load_s", "static_s", "train_s", "render_s"}

    def test_float32_values_round_trip(self, short_canonical):
        d = short_canonical.to_dict()
        w1 = next(v for v in d["variables"] if v["name"] == "w1")
        recorded = np.array(short_canonical.variable("w1").values[-1], dtype=np.float32)
        assert np.array(w1["end"]["values"], dtype=np.float32).tobytes() == recorded.tobytes()


class TestPlots:
    def test_trajectory_figure_tells_the_seed_story(self, short_canonical):
        fig = trajectory_figure(short_canonical)
        values, grads, loss = fig.axes[:3]
        lines = {line.get_gid(): line for line in values.lines}
        assert sorted(lines) == sorted([f"values:{n}:{j}" for n in ("w1", "w2", "w3") for j in range(5)]
                                       + [f"watch:w2___w3:{j}" for j in range(5)])
        for name in ("w2", "w3"):
            for j in range(5):
                line = lines[f"values:{name}:{j}"]
                y = np.asarray(line.get_ydata())
                assert len(y) == 101 and np.all(y == y[0])  # perfectly flat
                assert line.get_color() == style_of("blocked").colour
        assert lines["values:w1:0"].get_color() == style_of("flows").colour
        w2w3 = np.array(short_canonical.variable("w2").values[0]) * np.array(short_canonical.variable("w3").values[0])
        w1_end = [np.asarray(lines[f"values:w1:{j}"].get_ydata())[-1] for j in range(5)]
        np.testing.assert_allclose(w1_end, w2w3, atol=1e-3)
        for j in range(5):  # the watched w2 * w3 (examples/stop_gradient.py's train_watch): flat, w1 ends on it
            y = np.asarray(lines[f"watch:w2___w3:{j}"].get_ydata())
            assert np.all(y == y[0]) and y[0] == pytest.approx(w2w3[j], rel=1e-6)
        assert [line.get_gid() for line in grads.lines] == ["grad:w1"]
        assert grads.get_yscale() == "log" and loss.get_yscale() == "log"
        assert any("no gradient: w2 (blocked), w3 (blocked)" == t.get_text() for t in grads.texts)

    def test_svg_is_byte_identical_and_undated(self, short_canonical, tmp_path):
        a, b = tmp_path / "a.svg", tmp_path / "b.svg"
        short_canonical.plot(str(a))
        short_canonical.plot(str(b))
        assert a.read_bytes() == b.read_bytes()
        assert figure_svg(trajectory_figure(short_canonical)) == a.read_text()
        assert b"<dc:date>" not in a.read_bytes()

    def test_png_and_pdf(self, short_canonical, tmp_path):
        png, pdf = tmp_path / "t.png", tmp_path / "t.pdf"
        short_canonical.plot(str(png))
        short_canonical.plot(str(pdf))
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert pdf.read_bytes()[:5] == b"%PDF-"

    def test_watch_lines_are_drawn(self):
        run = train_file(case("tf1_canonical"), steps=10)
        fig = trajectory_figure(run)
        gids = [line.get_gid() for line in fig.axes[0].lines]
        assert [g for g in gids if g.startswith("watch:")] == [f"watch:w2___w3:{j}" for j in range(5)]

    def test_plot_layers_for_a_keras_model(self, capsys, tmp_path):
        out = tmp_path / "layers.svg"
        assert main(["train", case("keras_batches"), "--steps", "3", "--plot-layers", str(out)]) == 0
        capsys.readouterr()
        text = out.read_text()
        for layer in ("net_hidden", "net_bn", "net_out"):
            for step in ("step_1", "step_3"):
                assert f'id="mean:{step}:{layer}"' in text and f'id="max:{step}:{layer}"' in text

    def test_layer_groups_and_missing_gradients(self, short_canonical):
        assert [g for g, _ in layer_groups(short_canonical)] == ["w1", "w2", "w3"]
        fig = layer_figure(short_canonical)
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert texts == ["no gradient", "no gradient"]  # w2 and w3


def test_value_panel_shows_trainable_float_variables_only():
    """A Dropout seed state (int, ~1e8) or BatchNorm statistics would flatten every weight to a line."""
    run = train_file(case("keras_batches"), steps=2)
    fig = trajectory_figure(run)
    drawn = {line.get_gid().split(":")[1] for line in fig.axes[0].lines if line.get_gid().startswith("values:")}
    expected = {v.name.replace("/", "_") for v in run.variables if v.trainable and v.dtype.startswith("float")}
    assert drawn == expected and not any("moving" in n for n in drawn)
    assert any(not v.trainable for v in run.variables)  # the BatchNorm statistics were left out
