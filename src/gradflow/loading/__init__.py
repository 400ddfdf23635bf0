"""Stage 1: a model file (or the Python API's objects) -> :class:`Target`.

One module per job:

- :mod:`.dispatch`: which kind of model a path holds (Python file, SavedModel
  directory, GraphDef), the options that apply to it, and its loader;
- :mod:`.python`: the model-file contract: importing a ``.py`` file, choosing
  its target and example inputs;
- :mod:`.savedmodel`, :mod:`.graphdef`: the two kinds of file that keep no Python;
- :mod:`.target`: the :class:`Target` every loader returns;
- :mod:`.objects`: what kind of object something is (tf.function, Keras model...);
- :mod:`.inputs`: synthesised example inputs and their short description;
- :mod:`.state`: TensorFlow's process-wide state, put back after a model file.

TensorFlow is imported inside functions only.
"""

from __future__ import annotations

from .dispatch import check_options, load_model, model_format
from .graphdef import GraphVariable, graph_variables, load_graph_def, scalar_float_tensors
from .inputs import SEED, summarize, synthesize_from_signature, synthesize_value
from .objects import describe, is_compiled_keras_model, is_graph_tensor, is_keras_model, is_tf_function
from .python import DEFAULT_TARGETS, load_file, make_target, python_target, reset_module_names
from .savedmodel import exported_functions, load_saved_model, restored_variables
from .state import forget_autograph_conversions, record_variable_creation, tf_state_guard
from .target import Origin, Target, TargetKind

__all__ = [
    "Target", "TargetKind", "Origin",
    "load_model", "check_options", "model_format",
    "load_file", "make_target", "python_target", "reset_module_names", "DEFAULT_TARGETS",
    "load_saved_model", "exported_functions", "restored_variables",
    "load_graph_def", "GraphVariable", "graph_variables", "scalar_float_tensors",
    "tf_state_guard", "forget_autograph_conversions", "record_variable_creation",
    "is_tf_function", "is_keras_model", "is_compiled_keras_model", "is_graph_tensor", "describe",
    "SEED", "synthesize_from_signature", "synthesize_value", "summarize",
]
