"""TF-free unit tests of loading/: which kind of model a path holds, which options apply, module names.

TensorFlow never loads here: telling a Python file, a SavedModel directory and
a GraphDef apart, and checking the options, happen before it does (the CLI
fails fast on a wrong path). SavedModels and GraphDefs themselves are loaded,
against TensorFlow's own gradients, in test_formats.py.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gradflow.errors import ModelFileError, UsageError
from gradflow.loading import check_options, model_format, reset_module_names, summarize
from gradflow.loading.python import import_model_file
from gradflow.loading.target import MAX_LISTED, listing


@pytest.fixture
def files(tmp_path):
    """One path of each kind, and a few that are none."""
    (tmp_path / "model.py").write_text("x = 1\n")
    (tmp_path / "graph.pb").write_bytes(b"")
    (tmp_path / "graph.pbtxt").write_text("")
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "saved_model.pb").write_bytes(b"")
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("")
    return tmp_path


class TestModelFormat:
    def test_each_kind(self, files):
        assert model_format(str(files / "model.py")) == "python"
        assert model_format(str(files / "graph.pb")) == "graphdef"
        assert model_format(str(files / "graph.pbtxt")) == "graphdef"
        assert model_format(str(files / "saved")) == "saved_model"

    @pytest.mark.parametrize("name,words", [
        ("missing.py", "no such file or directory"),
        ("folder", "is a directory, but not a SavedModel"),
        ("saved/saved_model.pb", "is the graph file of a SavedModel, not a GraphDef. Give its directory instead"),
        ("notes.txt", "is not a Python file, a SavedModel or a GraphDef"),
    ])
    def test_what_is_none_of_them_says_so(self, files, name, words):
        with pytest.raises(ModelFileError, match=words):
            model_format(str(files / name))

    def test_no_tensorflow_needed(self, files):
        before = "tensorflow" in sys.modules
        model_format(str(files / "saved"))
        assert ("tensorflow" in sys.modules) == before


class TestCheckOptions:
    def test_options_of_the_right_kind_pass(self, files):
        assert check_options(str(files / "model.py"), target="loss", inputs="xs") == "python"
        assert check_options(str(files / "saved"), function="loss") == "saved_model"
        assert check_options(str(files / "graph.pb"), loss="loss:0") == "graphdef"

    @pytest.mark.parametrize("path,option,flag,fix", [
        ("model.py", "loss", "--loss", "--target NAME"),
        ("model.py", "function", "--function", "--target NAME"),
        ("saved", "target", "--target", "--function NAME"),
        ("graph.pb", "inputs", "--inputs", "--loss TENSOR"),
    ])
    def test_an_option_for_another_kind_is_a_usage_error(self, files, path, option, flag, fix):
        with pytest.raises(UsageError) as info:
            check_options(str(files / path), **{option: "x"})
        assert str(info.value).startswith(f"{flag} applies to ")
        assert fix in str(info.value)


@pytest.fixture
def forget_user_modules():
    """The modules a test imports leave sys.modules again (gradflow docs' clean-up does the same)."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("gradflow_user_"):
            del sys.modules[name]


def test_user_modules_are_numbered_and_renumbered(files, forget_user_modules):
    reset_module_names()
    first = import_model_file(str(files / "model.py"))
    second = import_model_file(str(files / "model.py"))
    assert (first.__name__, second.__name__) == ("gradflow_user_model_0", "gradflow_user_model_1")
    reset_module_names()
    assert import_model_file(str(files / "model.py")).__name__ == "gradflow_user_model_0"
    assert first.x == 1


def test_listing_is_short():
    names = [f"t{i}" for i in range(MAX_LISTED + 4)]
    assert listing(names[:2]) == "t0, t1"
    assert listing(names).endswith(f"t{MAX_LISTED - 1} (+4 more)")


def test_summarize_gives_shape_and_dtype():
    x = np.zeros((4, 5), dtype=np.float32)
    assert summarize((x, np.zeros(4, dtype=np.int32))) == "(float32[4, 5], int32[4])"
    assert summarize({"x": x}) == "{x: float32[4, 5]}"
    assert summarize([1.5]) == "[1.5]"
