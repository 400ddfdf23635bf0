"""TF-free unit tests of sources.py: which frame is the user's line, and how its path is shown."""

from __future__ import annotations

import os

import gradflow
from gradflow.sources import LocationResolver, innermost_user_frame, is_user_file

GRADFLOW_FILE = os.path.join(os.path.dirname(gradflow.__file__), "api.py")


def test_library_and_generated_files_are_not_the_users():
    assert not is_user_file(os.__file__)  # the standard library
    assert not is_user_file("<string>") and not is_user_file("")


def test_the_innermost_user_frame_inside_gradflow(tmp_path):
    model = str(tmp_path / "model.py")
    caller = str(tmp_path / "notebook_cell.py")
    frames = [(caller, 1), (GRADFLOW_FILE, 10), (model, 7), (model, 9), (os.__file__, 100)]
    # The caller's frame is outside gradflow's call: the model's innermost line wins.
    assert innermost_user_frame(frames) == (model, 9)
    assert innermost_user_frame([(caller, 1), (GRADFLOW_FILE, 10)]) is None


def test_display_path_keeps_the_users_spelling(tmp_path, monkeypatch):
    model = tmp_path / "m.py"
    model.write_text("")
    monkeypatch.chdir(tmp_path)
    assert LocationResolver("./m.py").display_path(str(model)) == "./m.py"
    assert LocationResolver(None).display_path(str(model)) == "m.py"
