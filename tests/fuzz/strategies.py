"""Hypothesis strategies that write random small TensorFlow model files as source text.

``programs(palette)`` draws a :class:`Program`: the text of a model file (per
/work/shared/CONTRACT.md) with 2-4 float variables ``w0..w3`` holding literal
initial values, an example input ``x`` (an n x n matrix) and a ``loss``
``tf.function`` whose body is a few statements ``t0 = ...``, ``t1 = ...`` built
from a palette of ops, returning a scalar float.

Every value in the program has one of three static shapes (kinds):
``S`` (a scalar), ``V`` (``[n]``) and ``M`` (``[n, n]``), with n = 2 or 3 per
program. An expression is drawn *for* a kind, so every program is well-shaped:
leaves (a variable, ``x`` or an earlier temporary) are coerced to the kind
wanted (``tf.reduce_sum`` down, ``* tf.ones(...)`` up), binary ops broadcast a
smaller operand, and ops that change the shape (reductions, matvec, gather,
argmax) are drawn only where their result kind is wanted.

Palettes:
    ``"dataflow"``: no control flow (elementwise, matmul, reductions,
    concat/split, gather, argmax, casts, stop_gradient, round/floor/sign/relu,
    tf.where, custom gradients, numpy_function / py_function).
    ``"control"``: all of the above plus ``tf.cond``, ``tf.while_loop`` and
    ``tf.switch_case`` (whose branches and bodies are drawn from the same
    palette, so cuts end up inside them).

Shrinking: the first choice of every draw is the simplest one (a leaf, the first
variable, the first literal, a plain op before a cut before control flow), so a
failing program shrinks to a few short statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

KINDS = ("S", "V", "M")
RANK = {"S": 0, "V": 1, "M": 2}
PALETTES = ("dataflow", "control")

# Literal values for variables and the input: small, some exactly 0 or .5 (edges of
# relu/sign/round), none large enough for a couple of squares to overflow float16.
VALUES = (0.5, -1.0, 1.25, -0.75, 2.0, 0.0, -1.5, 0.3, 1.0, -0.4)
SCALARS = ("0.0", "0.5", "2.0", "-1.0")

# Node kinds, simplest first (hypothesis shrinks sampled_from towards the front).
COMMON_PLAIN = ("add", "mul", "sub", "tanh", "square", "exp", "relu", "where", "nested_function")
COMMON_CUTS = (
    "stop_gradient", "round", "floor", "sign", "int_cast", "f16_cast",
    "cg_none", "cg_scale", "cg_zero", "cg_first", "numpy_function", "py_function", "py_function_int",
    "nested_function_stop",
)
SHAPED = {
    "S": ("reduce", "gather_const", "argmax_cast", "argmax_gather"),
    "V": ("reduce_axis", "matvec", "concat_split", "gather_const", "gather_row", "argmax_cast", "argmax_gather"),
    "M": ("matmul", "concat_split", "gather_const", "argmax_gather"),
}
CONTROL = ("cond", "while", "switch_case", "while2")

# A while body that cuts its loop variable (or ignores it) was a gradflow bug
# (TensorFlow zero-fills the loop input's gradient, gradflow predicted None:
# tests/corpus/regress_while_loop_var_cut_in_body.py). While it was open, this was
# False and bodies added the loop variable back on an open path.
LOOP_VAR_CUTS = True

# TensorFlow's own gradient fails on these inside a while body, so bodies never
# hold one: tf.py_function (KeyError: b'pyfunc_0' from the EagerPyFunc kernel; in
# a long run it hung), and a tf.custom_gradient whose grad closes over a forward
# tensor (cg_first, under a tf.cond in the body: AssertionError in
# cond_v2._resolve_grad_inputs). tf.numpy_function is fine there.
NOT_IN_LOOPS = frozenset({"py_function", "py_function_int", "cg_first"})

# TensorFlow's while_v2 gradient also breaks when a body applies a binary op to
# the loop variable and a constant made in the body while using the variable
# again (`a + a * 1.0`, `a + (a + 0.0)`, `a + a * tf.ones(...)`: InvalidArgumentError
# "cannot compute __inference___backward_...", or a gradient of the wrong shape).
# So bodies hold no literal operands, and broadcast leaves up with tf.broadcast_to.

# Module-level helpers, emitted only when a program uses them. A custom gradient's
# `dy` is an IndexedSlices under a tf.gather, hence the convert_to_tensor.
HELPERS = {
    "cg_none": '''
@tf.custom_gradient
def cg_none(t):
    def grad(dy):
        return None
    return tf.identity(t), grad
''',
    "cg_scale": '''
@tf.custom_gradient
def cg_scale(t):
    def grad(dy):
        return tf.convert_to_tensor(dy) * 2.0
    return tf.identity(t), grad
''',
    "cg_zero": '''
@tf.custom_gradient
def cg_zero(t):
    def grad(dy):
        return tf.zeros_like(tf.convert_to_tensor(dy))
    return tf.identity(t), grad
''',
    "cg_first": '''
@tf.custom_gradient
def cg_first(a, b):
    def grad(dy):
        return tf.convert_to_tensor(dy) * b, None
    return a * b, grad
''',
    "np_double": '''
def np_double(a):
    return (a * 2.0).astype(np.float32)
''',
    "py_double": '''
def py_double(a):
    return a * 2.0
''',
    "inner": '''
@tf.function
def inner(t):
    return tf.tanh(t) * 2.0
''',
    "inner_stop": '''
@tf.function
def inner_stop(t):
    return tf.stop_gradient(t) * 2.0
''',
    "py_to_int": '''
def py_to_int(a):
    return tf.cast(a, tf.int32)
''',
}


@dataclass
class Program:
    """One generated model file: its source text and what it was built from."""

    source: str
    palette: str
    ops: list = field(default_factory=list)
    variables: list = field(default_factory=list)

    def __repr__(self) -> str:  # hypothesis prints this for a falsifying example
        return f"Program(palette={self.palette!r}, source='''\n{self.source}''')"


def shape_text(kind: str, n: int) -> str:
    return {"S": "[]", "V": f"[{n}]", "M": f"[{n}, {n}]"}[kind]


def literal(kind: str, n: int, values: list) -> str:
    """A nested-list literal of `kind` from the flat list `values`."""
    if kind == "S":
        return repr(values[0])
    if kind == "V":
        return "[" + ", ".join(repr(v) for v in values[:n]) + "]"
    rows = [values[i * n:(i + 1) * n] for i in range(n)]
    return "[" + ", ".join("[" + ", ".join(repr(v) for v in r) + "]" for r in rows) + "]"


def size(kind: str, n: int) -> int:
    return n ** RANK[kind]


class _Gen:
    """The drawing state of one program (hypothesis `draw`, budget, helpers used)."""

    def __init__(self, draw, n: int, palette: str, budget: int, max_depth: int):
        self.draw = draw
        self.n = n
        self.palette = palette
        self.budget = budget
        self.max_depth = max_depth
        self.helpers: list[str] = []
        self.ops: list[str] = []
        self.loops = 0
        self.in_loop = 0  # how many while bodies we are inside

    # -- small draws -------------------------------------------------------
    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def lower_kind(self, kind: str) -> str:
        """A kind no bigger than `kind` (broadcasts against it)."""
        return self.pick(tuple(k for k in (kind, "S", "V", "M") if RANK[k] <= RANK[kind])
                         if kind != "S" else ("S",))

    def helper(self, name: str) -> str:
        if name not in self.helpers:
            self.helpers.append(name)
        return name

    # -- leaves --------------------------------------------------------------
    def coerce(self, text: str, src: str, dst: str) -> str:
        n = self.n
        if src == dst:
            return text
        if RANK[src] > RANK[dst]:
            if src == "M" and dst == "V":
                return f"tf.reduce_sum({text}, axis=0)"
            return f"tf.reduce_sum({text})"
        if self.in_loop:
            return f"tf.broadcast_to({text}, {shape_text(dst, n)})"
        return f"{text} * tf.ones({shape_text(dst, n)})"

    def leaf(self, kind: str, env: list) -> str:
        name, src = env[self.draw(st.integers(0, len(env) - 1))]
        return self.coerce(name, src, kind)

    # -- expressions -----------------------------------------------------------
    def expr(self, kind: str, env: list, depth: int = 0) -> str:
        if self.budget <= 0 or depth >= self.max_depth:
            return self.leaf(kind, env)
        groups = ["leaf", "plain", "shaped", "cut"]
        if self.palette == "control":
            groups.append("control")
        group = self.pick(tuple(groups))
        if group == "leaf":
            return self.leaf(kind, env)
        options = {"plain": COMMON_PLAIN, "shaped": SHAPED[kind], "cut": COMMON_CUTS,
                   "control": CONTROL}[group]
        if self.in_loop:
            options = tuple(o for o in options if o not in NOT_IN_LOOPS)
        op = self.pick(options)
        self.budget -= 1
        self.ops.append(op)
        return getattr(self, "op_" + op)(kind, env, depth + 1)

    def sub(self, kind, env, depth):
        return self.expr(kind, env, depth)

    # plain -------------------------------------------------------------------
    def _binary(self, sym, kind, env, depth):
        a = self.sub(kind, env, depth)
        if not self.in_loop and self.draw(st.booleans()):
            b = self.pick(SCALARS)
        else:
            b = self.sub(self.lower_kind(kind), env, depth)
        if self.draw(st.booleans()):
            a, b = b, a
        return f"({a} {sym} {b})"

    def op_add(self, kind, env, depth):
        return self._binary("+", kind, env, depth)

    def op_mul(self, kind, env, depth):
        return self._binary("*", kind, env, depth)

    def op_sub(self, kind, env, depth):
        return self._binary("-", kind, env, depth)

    def op_tanh(self, kind, env, depth):
        return f"tf.tanh({self.sub(kind, env, depth)})"

    def op_square(self, kind, env, depth):
        return f"tf.square({self.sub(kind, env, depth)})"

    def op_exp(self, kind, env, depth):
        return f"tf.exp(tf.tanh({self.sub(kind, env, depth)}))"

    def op_relu(self, kind, env, depth):
        return f"tf.nn.relu({self.sub(kind, env, depth)})"

    def op_where(self, kind, env, depth):
        c = self.sub(self.lower_kind(kind), env, depth)
        a = self.sub(kind, env, depth)
        b = self.sub(self.lower_kind(kind), env, depth)
        if self.draw(st.booleans()):
            a, b = b, a
        return f"tf.where({c} > 0.0, {a}, {b})"

    # cuts --------------------------------------------------------------------
    def op_stop_gradient(self, kind, env, depth):
        return f"tf.stop_gradient({self.sub(kind, env, depth)})"

    def op_round(self, kind, env, depth):
        return f"tf.round({self.sub(kind, env, depth)})"

    def op_floor(self, kind, env, depth):
        return f"tf.floor({self.sub(kind, env, depth)})"

    def op_sign(self, kind, env, depth):
        return f"tf.sign({self.sub(kind, env, depth)})"

    def op_int_cast(self, kind, env, depth):
        return f"tf.cast(tf.cast({self.sub(kind, env, depth)}, tf.int32), tf.float32)"

    def op_f16_cast(self, kind, env, depth):
        return f"tf.cast(tf.cast({self.sub(kind, env, depth)}, tf.float16), tf.float32)"

    def op_cg_none(self, kind, env, depth):
        return f"{self.helper('cg_none')}({self.sub(kind, env, depth)})"

    def op_cg_scale(self, kind, env, depth):
        return f"{self.helper('cg_scale')}({self.sub(kind, env, depth)})"

    def op_cg_zero(self, kind, env, depth):
        return f"{self.helper('cg_zero')}({self.sub(kind, env, depth)})"

    def op_cg_first(self, kind, env, depth):
        a = self.sub(kind, env, depth)
        b = self.sub(kind, env, depth)
        return f"{self.helper('cg_first')}({a}, {b})"

    def op_numpy_function(self, kind, env, depth):
        a = self.sub(kind, env, depth)
        fn = self.helper("np_double")
        return f"tf.reshape(tf.numpy_function({fn}, [{a}], tf.float32), {shape_text(kind, self.n)})"

    def op_py_function(self, kind, env, depth):
        a = self.sub(kind, env, depth)
        fn = self.helper("py_double")
        return f"tf.reshape(tf.py_function({fn}, [{a}], tf.float32), {shape_text(kind, self.n)})"

    def op_py_function_int(self, kind, env, depth):
        a = self.sub(kind, env, depth)
        fn = self.helper("py_to_int")
        return (f"tf.reshape(tf.cast(tf.py_function({fn}, [{a}], tf.int32), tf.float32), "
                f"{shape_text(kind, self.n)})")

    def op_nested_function(self, kind, env, depth):
        return f"{self.helper('inner')}({self.sub(kind, env, depth)})"

    def op_nested_function_stop(self, kind, env, depth):
        return f"{self.helper('inner_stop')}({self.sub(kind, env, depth)})"

    # shape-changing ------------------------------------------------------------
    def op_reduce(self, kind, env, depth):  # -> S
        fn = self.pick(("reduce_sum", "reduce_mean", "reduce_max"))
        return f"tf.{fn}({self.sub(self.pick(('V', 'M')), env, depth)})"

    def op_reduce_axis(self, kind, env, depth):  # -> V
        fn = self.pick(("reduce_sum", "reduce_mean", "reduce_max"))
        axis = self.pick((0, 1))
        return f"tf.{fn}({self.sub('M', env, depth)}, axis={axis})"

    def op_matvec(self, kind, env, depth):  # -> V
        return f"tf.linalg.matvec({self.sub('M', env, depth)}, {self.sub('V', env, depth)})"

    def op_matmul(self, kind, env, depth):  # -> M
        return f"tf.matmul({self.sub('M', env, depth)}, {self.sub('M', env, depth)})"

    def op_concat_split(self, kind, env, depth):  # V -> V, M -> M
        a = self.sub(kind, env, depth)
        b = self.sub(kind, env, depth)
        axis = self.pick((0, 1)) if kind == "M" else 0
        k = self.pick((0, 1))
        return f"tf.split(tf.concat([{a}, {b}], axis={axis}), 2, axis={axis})[{k}]"

    def _indices(self):
        return [self.draw(st.integers(0, self.n - 1)) for _ in range(self.n)]

    def op_gather_const(self, kind, env, depth):
        if kind == "S":
            return f"tf.gather({self.sub('V', env, depth)}, {self.draw(st.integers(0, self.n - 1))})"
        idx = self._indices()
        if kind == "V":
            return f"tf.gather({self.sub('V', env, depth)}, {idx})"
        axis = self.pick((0, 1))
        return f"tf.gather({self.sub('M', env, depth)}, {idx}, axis={axis})"

    def op_gather_row(self, kind, env, depth):  # M -> V
        return f"tf.gather({self.sub('M', env, depth)}, {self.draw(st.integers(0, self.n - 1))})"

    def op_argmax_cast(self, kind, env, depth):  # V -> S, M -> V
        if kind == "S":
            return f"tf.cast(tf.argmax({self.sub('V', env, depth)}), tf.float32)"
        return f"tf.cast(tf.argmax({self.sub('M', env, depth)}, axis=1), tf.float32)"

    def op_argmax_gather(self, kind, env, depth):
        if kind == "S":
            idx = f"tf.argmax({self.sub('V', env, depth)})"
            return f"tf.gather({self.sub('V', env, depth)}, {idx})"
        idx = f"tf.argmax({self.sub('M', env, depth)}, axis=1)"
        return f"tf.gather({self.sub(kind, env, depth)}, {idx})"

    # control flow -------------------------------------------------------------
    def _predicate(self, env, depth):
        p = self.sub(self.pick(KINDS), env, depth)
        return f"tf.reduce_sum({p}) > 0.0"

    def op_cond(self, kind, env, depth):
        pred = self._predicate(env, depth)
        a = self.sub(kind, env, depth)
        b = self.sub(kind, env, depth)
        return f"tf.cond({pred}, lambda: {a}, lambda: {b})"

    def op_while(self, kind, env, depth):
        k = self.loops
        self.loops += 1
        i, a = f"i{k}", f"a{k}"
        trips = self.pick((2, 1, 3, 0))
        init = self.sub(kind, env, depth)
        self.in_loop += 1
        body = self.sub(kind, [(a, kind)] + env, depth)
        self.in_loop -= 1
        if not LOOP_VAR_CUTS:
            body = f"({a} + {body})"
        return (f"tf.while_loop(lambda {i}, {a}: {i} < {trips}, "
                f"lambda {i}, {a}: ({i} + 1, {body}), (0, {init}))[1]")

    def op_while2(self, kind, env, depth):
        """Two loop variables of `kind` (and a counter) feeding each other; one result is used."""
        k = self.loops
        self.loops += 1
        i, a, b = f"i{k}", f"a{k}", f"b{k}"
        trips = self.pick((2, 1, 3, 0))
        init_a = self.sub(kind, env, depth)
        init_b = self.sub(kind, env, depth)
        inner_env = [(b, kind), (a, kind)] + env
        self.in_loop += 1
        new_a = self.sub(kind, inner_env, depth)
        new_b = self.sub(kind, inner_env, depth)
        self.in_loop -= 1
        if not LOOP_VAR_CUTS:
            new_a, new_b = f"({a} + {new_a})", f"({b} + {new_b})"
        pick = self.pick((1, 2))
        return (f"tf.while_loop(lambda {i}, {a}, {b}: {i} < {trips}, "
                f"lambda {i}, {a}, {b}: ({i} + 1, {new_a}, {new_b}), (0, {init_a}, {init_b}))[{pick}]")

    def op_switch_case(self, kind, env, depth):
        how = self.pick(("constant", "predicate", "argmax"))
        count = self.pick((2, 3))
        if how == "constant":
            index = f"tf.constant({self.draw(st.integers(0, count - 1))})"
        elif how == "predicate":
            index = f"tf.cast({self._predicate(env, depth)}, tf.int32)"
        else:
            index = f"tf.cast(tf.argmax({self.sub('V', env, depth)}), tf.int32)"
        branches = ", ".join(f"lambda: {self.sub(kind, env, depth)}" for _ in range(count))
        return f"tf.switch_case({index}, [{branches}])"


@st.composite
def programs(draw, palette: str = "dataflow", min_ops: int = 3, max_ops: int = 12):
    """A random model file (see the module docstring)."""
    assert palette in PALETTES, palette
    n = draw(st.sampled_from((2, 3)))
    budget = draw(st.integers(min_ops, max_ops))
    gen = _Gen(draw, n, palette, budget, max_depth=3)

    lines = ["# Generated by tests/fuzz/strategies.py (hypothesis).",
             "import numpy as np", "import tensorflow as tf", ""]
    n_vars = draw(st.integers(2, 4))
    env = []
    variables = []
    for k in range(n_vars):
        kind = draw(st.sampled_from(("V", "M", "S")))
        values = draw(st.lists(st.sampled_from(VALUES), min_size=size(kind, n), max_size=size(kind, n)))
        trainable = draw(st.sampled_from((True, True, True, False)))
        extra = "" if trainable else ", trainable=False"
        lines.append(f'w{k} = tf.Variable({literal(kind, n, values)}, dtype=tf.float32, name="w{k}"{extra})')
        env.append((f"w{k}", kind))
        variables.append((f"w{k}", kind, trainable))
    x_values = draw(st.lists(st.sampled_from(VALUES), min_size=n * n, max_size=n * n))
    lines.append(f"example_inputs = (tf.constant({literal('M', n, x_values)}, dtype=tf.float32),)")
    env.append(("x", "M"))

    n_stmts = draw(st.integers(1, 5))
    body = []
    temps = []
    for s in range(n_stmts):
        kind = draw(st.sampled_from(KINDS))
        text = gen.expr(kind, env)
        body.append(f"    t{s} = {text}")
        env.append((f"t{s}", kind))
        temps.append(f"t{s}")
    # The loss: the last temporary, plus any others drawn (the rest is dead code).
    summed = [temps[-1]] + [t for t in temps[:-1] if draw(st.booleans())]
    body.append("    return " + " + ".join(f"tf.reduce_sum({t})" for t in summed))

    helper_text = [HELPERS[h].strip("\n") for h in sorted(gen.helpers)]
    src = "\n".join(lines) + "\n"
    for h in helper_text:
        src += "\n\n" + h + "\n"
    src += "\n\n@tf.function\ndef loss(x):\n" + "\n".join(body) + "\n"
    return Program(source=src, palette=palette, ops=list(gen.ops), variables=variables)
