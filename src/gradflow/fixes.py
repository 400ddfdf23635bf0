"""What to do about a cut: one short suggestion per blocker, from its kind, op type and place.

Pure functions on plain data (no TensorFlow): the cut (its kind, op type and
the custom gradient or variable behind it) was decided by :mod:`gradflow.cuts`;
this module only words the remedy.
"""

from __future__ import annotations

import re
from typing import Sequence

from .cuts import Cut, CutKind, is_stop_gradient_op
from .sources import Location

__all__ = ["fix_for", "body_of", "written_at", "library_wording", "COMPARISONS", "ARG_OPS", "ROUNDING",
           "PYFUNC", "RELAXED"]

ARG_OPS = frozenset({"ArgMax", "ArgMin", "TopKV2", "TopK", "OneHot", "Unique", "Where", "NonMaxSuppressionV3",
                     "NonMaxSuppressionV4", "NonMaxSuppressionV5", "Multinomial", "StatelessMultinomial"})
COMPARISONS = frozenset({"Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual",
                         "LogicalAnd", "LogicalOr", "LogicalNot", "IsNan", "IsInf", "IsFinite",
                         "ApproximateEqual", "InTopK", "InTopKV2"})
ROUNDING = {"Round": "tf.round", "Rint": "tf.math.rint", "Floor": "tf.math.floor", "Ceil": "tf.math.ceil",
            "Sign": "tf.sign", "FloorDiv": "tf.math.floordiv", "FloorMod": "tf.math.floormod",
            "Cast": "tf.round", "Bucketize": "tf.round"}
PYFUNC = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
_BODY = re.compile(r"([^/\[\]]+)\[(then|else|body|cond|branch\d+)\]")
_BODY_WORDS = {"then": "the true branch of tf.cond", "else": "the false branch of tf.cond",
               "body": "the body of tf.while_loop", "cond": "the condition of tf.while_loop"}

SOFT = "use softmax / a soft surrogate, or a straight-through estimator"
NUMPY = "keep the computation in TensorFlow ops, or use tf.py_function (differentiable)"
SHAPE = "the loss depends only on the shape of this tensor, not its values"


def body_of(op_id: str) -> str:
    """Where in control flow ``op_id`` sits, in words ("" at top level).

    Examples:
        >>> body_of("cond[then]/Round")
        "the true branch of tf.cond 'cond'"
        >>> body_of("sw[branch1]/ArgMax")
        "branch 1 of tf.switch_case 'sw'"
        >>> body_of("loop[body]/inner[else]/Floor")
        "the false branch of tf.cond 'inner' in the body of tf.while_loop 'loop'"
    """
    parts = []
    for call, which in _BODY.findall(op_id):
        if which.startswith("branch"):
            parts.append(f"branch {which[6:]} of tf.switch_case '{call}'")
        else:
            parts.append(f"{_BODY_WORDS[which]} '{call}'")
    return " in ".join(reversed(parts))


def written_at(location: Location | None, word: str) -> bool:
    """Whether the user's line at ``location`` mentions ``word`` (True when it cannot be read).

    A library op (Keras's own ``tf.stop_gradient`` in BatchNormalization's
    moments) is located at the user's line that called the library; that line
    does not say ``stop_gradient``.
    """
    if location is None:
        return False
    import linecache

    text = linecache.getline(location.file, location.line)
    return word in text if text else True


def _where(location: Location | None) -> str:
    return f" at {location}" if location is not None else ""


def _ste(op_type: str) -> str:
    fn = ROUNDING.get(op_type, "tf.round")
    return f"straight-through estimator: x + tf.stop_gradient({fn}(x) - x)"


def _names(names: Sequence[str], limit: int = 4) -> str:
    names = list(names)
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)


def fix_for(cut: Cut | None, op_type: str, op_id: str, location: Location | None,
            shields: Sequence[str] = (), *, origin: str | None = None) -> str:
    """One suggestion for the cut at ``op_id``.

    Args:
        cut: the op's :class:`~gradflow.cuts.Cut` (None when none was recorded).
        op_type: the op's type.
        op_id: the op's node id (its function path tells a cond/while body).
        location: the user's line that created it.
        shields: for a StopGradient, the variables it cuts off from the loss.
        origin: ``"user"`` or ``"library:NAME"`` when known (then the line's text is not consulted).

    Examples:
        >>> fix_for(Cut(CutKind.NOT_DIFFERENTIABLE, "ArgMax has no gradient"), "ArgMax", "ArgMax", None)
        'use softmax / a soft surrogate, or a straight-through estimator'
        >>> fix_for(Cut(CutKind.SHAPE_ONLY, "Shape reads only the shape"), "Shape", "Shape", None)
        'the loss depends only on the shape of this tensor, not its values'
    """
    fix = _plain_fix(cut, op_type, location, shields, origin)
    body = body_of(op_id)
    if body:
        return f"cut inside {body}: {op_type}{_where(location)}; {fix}"
    return fix


def _plain_fix(cut: Cut | None, op_type: str, location: Location | None, shields: Sequence[str],
               origin: str | None = None) -> str:
    kind = cut.kind if cut is not None else None
    if kind is CutKind.STOP_GRADIENT or is_stop_gradient_op(op_type):
        who = f" to let {_names(shields)} learn" if shields else ""
        if location is None:
            return ("a tf.stop_gradient with no line of yours recorded: by design if library code put it "
                    "there (e.g. BatchNormalization's moments); if your model did (a SavedModel or GraphDef "
                    f"keeps no lines), intended? remove tf.stop_gradient{who}")
        if origin is None and not written_at(location, "stop_gradient"):
            return (f"a tf.stop_gradient inside a library call at {location} (by design there, e.g. "
                    "Keras's own); it is not in your code")
        return f"intended? remove tf.stop_gradient{_where(location)}{who}"
    if kind is CutKind.CUSTOM_GRADIENT:
        name = cut.custom_gradient or "custom_gradient"
        return (f"grad_fn of '{name}'{_where(location)} returns None for this input: "
                "return a tensor (or tf.zeros_like) for it")
    if kind is CutKind.SHAPE_ONLY:
        return SHAPE
    if op_type in PYFUNC:
        return NUMPY
    if op_type in ARG_OPS or op_type in COMPARISONS:
        return SOFT
    if op_type == "Cast" or (cut is not None and cut.op_type == "Cast"):
        return _ste("Cast") + " (round in float instead of casting to an integer)"
    if op_type in ROUNDING:
        return _ste(op_type)
    if kind is CutKind.INTEGER_OUTPUT:
        if cut.variable:
            return "make the variable a float dtype; integer variables cannot learn from a gradient"
        return f"{op_type} produces integers: compute in float, or use a straight-through estimator"
    if kind is CutKind.PREVENT_GRADIENT:
        return "PreventGradient forbids backprop here: remove it or stop_gradient the tensor on purpose"
    if kind is CutKind.NO_GRADIENT:
        return f"register a gradient for {op_type} (tf.RegisterGradient) or wrap it in tf.custom_gradient"
    return f"{op_type} passes no gradient: use a differentiable op, or a straight-through estimator"


# Wording only: TensorFlow's registry and autodiff decided that the cut is there.
DISCRETE = frozenset({"Bernoulli", "Categorical", "OneHotCategorical", "Poisson", "Binomial", "Geometric",
                      "NegativeBinomial", "Multinomial", "Zipf", "DiscreteUniform", "FiniteDiscrete",
                      "PlackettLuce", "BetaBinomial", "DirichletMultinomial", "Skellam"})
RELAXED = {"Bernoulli": "RelaxedBernoulli", "Categorical": "RelaxedOneHotCategorical",
           "OneHotCategorical": "RelaxedOneHotCategorical"}


def library_wording(call: str | None, origin: str, kind: str, op_type: str, reason: str) -> tuple[str, str]:
    """``(reason, fix)`` for a cut made inside a library call, in the terms of the call the user wrote.

    One wording per call, whatever internal op of it the gradient dies at, so
    that a Poisson sample's GreaterEqual, Floor and StatelessWhile make one fix.

    Examples:
        >>> library_wording("Bernoulli.sample", "library:tensorflow_probability", "integer_output", "Less", "")[0]
        'a sample of a discrete distribution has no gradient'
        >>> library_wording("LayerNormalization", "library:keras", "stop_gradient", "StopGradient", "")[0]
        'LayerNormalization stops the gradient inside keras (StopGradient)'
    """
    package = origin.partition(":")[2] or "a library"
    if call and call.endswith(".sample") and package == "tensorflow_probability":
        dist = call.rsplit(".", 1)[0]
        relaxed = RELAXED.get(dist)
        use = f"a relaxed distribution ({relaxed})" if relaxed else "a relaxed distribution"
        if dist in DISCRETE:
            return ("a sample of a discrete distribution has no gradient",
                    f"use {use} or a score-function estimator (REINFORCE: tfp.vi / log_prob times a stop_gradient'ed reward)")
        return (f"this {dist} sample is not reparameterized: it has no gradient",
                "use a reparameterized distribution or a score-function estimator")
    what = call or "a library call"
    if kind == "stop_gradient" or op_type == "StopGradient":
        return (f"{what} stops the gradient inside {package} (StopGradient)",
                f"by design inside {package}; if these variables should learn, do not route them through {what}")
    detail = reason or f"{op_type} passes no gradient"
    return (f"{what} is not differentiable here: {detail} (inside {package})",
            f"{what} has no gradient for this input: use a differentiable alternative, a straight-through "
            "estimator, or a score-function estimator")
