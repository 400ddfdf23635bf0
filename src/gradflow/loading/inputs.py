"""Example inputs: synthesised from a signature (the contract's rules), and described.

Unknown dimensions are 2, floats standard normal from seed 0, ints 0, bools
False; :func:`summarize` gives the short shape/dtype text the report header shows.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputsError
from ..schema import shape_text

__all__ = ["SEED", "UNKNOWN_DIM", "MAX_SYNTHESIS_BYTES", "synthesize_from_signature", "synthesize_value",
           "summarize"]

SEED = 0
UNKNOWN_DIM = 2


def synthesize_from_signature(signature: Any) -> tuple:
    """Values for a tf.function's ``input_signature``: unknown dims 2, floats N(0, 1)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(SEED)

    def one(spec: Any) -> Any:
        if not isinstance(spec, tf.TensorSpec):
            raise InputsError(
                f"cannot synthesise an input for {spec!r}; define `example_inputs` in the model file."
            )
        return tf.constant(synthesize_value(spec.shape, spec.dtype, rng))

    return tuple(tf.nest.map_structure(one, tuple(signature)))


def synthesize_value(shape: Any, dtype: Any, rng: Any) -> Any:
    """One array of ``shape``/``dtype``: floats standard normal, ints 0, bools False.

    Raises:
        InputsError: the array would be too big to allocate (says how big, and how to give smaller inputs).
    """
    import tensorflow as tf

    dtype = tf.as_dtype(dtype)
    if shape is None or getattr(shape, "rank", 0) is None:
        dims: list[int] = [UNKNOWN_DIM]
    else:
        dims = [UNKNOWN_DIM if d is None else int(d) for d in tf.TensorShape(shape).as_list()]
    _check_synthesis_size(dims, dtype)
    try:
        return _synthesize(dims, dtype, rng)
    except MemoryError:
        raise _too_big(dims, dtype) from None


# Synthesised example inputs larger than this are refused with a message (not a MemoryError).
MAX_SYNTHESIS_BYTES = 2 ** 31


def _too_big(dims: list, dtype: Any) -> InputsError:
    import math

    size = math.prod(dims) * max(1, dtype.size)
    shape = "[" + ", ".join(map(str, dims)) + "]"
    return InputsError(
        f"synthesising an example input of shape {shape} ({dtype.name}) needs {size / 2 ** 30:.3g} GiB, "
        f"more than gradflow allocates ({MAX_SYNTHESIS_BYTES / 2 ** 30:.3g} GiB). Give smaller inputs: define "
        "`example_inputs` in the model file, or use smaller (or None) dimensions in the input_signature."
    )


def _check_synthesis_size(dims: list, dtype: Any) -> None:
    import math

    if math.prod(dims) * max(1, dtype.size) > MAX_SYNTHESIS_BYTES:
        raise _too_big(dims, dtype)


def _synthesize(dims: list, dtype: Any, rng: Any) -> Any:
    import numpy as np
    import tensorflow as tf

    if dtype.is_floating or dtype.is_complex:
        return rng.standard_normal(dims).astype(dtype.as_numpy_dtype)
    if dtype.is_bool:
        return np.zeros(dims, dtype=bool)
    if dtype == tf.string:
        return np.full(dims, b"", dtype=object)
    return np.zeros(dims, dtype=dtype.as_numpy_dtype)


def summarize(value: Any) -> str:
    """A short shape/dtype description of an input structure: ``(float32[4, 5], int32[4])``."""

    def one(v: Any) -> str:
        shape = getattr(v, "shape", None)
        dtype = getattr(v, "dtype", None)
        if shape is not None and dtype is not None:
            dname = getattr(dtype, "name", None) or str(dtype)
            return f"{dname}{shape_text(tuple(shape))}"
        text = repr(v)
        return text if len(text) <= 24 else text[:21] + "..."

    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {summarize(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(summarize(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return one(value)
