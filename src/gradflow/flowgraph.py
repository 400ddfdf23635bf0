"""Stage 3: :class:`~gradflow.tracing.Trace` -> :class:`FlowGraph`, one networkx graph.

This is where gradflow stops reading TensorFlow objects: everything after it
works on plain Python data and networkx.

Nodes are ops, edges are the tensors between them. Function bodies (``If`` and
``Case`` branches, ``While`` cond and body, ``PartitionedCall`` functions) are
inlined at any depth: an outer input feeds the body's argument node, a body
result feeds the call node, and a ``While`` body's results feed its own
arguments back (``loop`` edges, the only cycles).

Node ids are ``"<function path>/<op name>"`` where the function path names the
call op and the body, e.g. ``"cond[then]/mul"``; top-level ops are their name.

Node attributes:
    name (str): the op's name inside its graph.
    type (str): the op type (``MatMul``, ``StopGradient``, ...).
    function (str): the function path ("" at top level).
    scope (str): the name scope, with the function path in front.
    location (Location | None): the user's source line that created the op;
        resolved on first use through :meth:`FlowGraph.location` (reading an
        op's traceback is the costliest step of building the graph, and only
        the ops a report names need it).
    outputs (tuple[tuple[str, str], ...]): (dtype, shape) of each output.
    in_branch (bool): inside a ``tf.cond`` / ``tf.switch_case`` branch, at any depth.
    role (str): ``variable``, ``loss``, ``input`` (an argument of the traced
        function or a TF1 placeholder), ``arg`` (a body argument), ``call``
        (a function-call op whose bodies are inlined), ``op``.
    variable (str): for ``role == "variable"``, the report's variable name.
    cut (cuts.Cut | None): where the gradient dies at this op, if it does on some input.

Edge attributes (MultiDiGraph; key ``"<src slot>:<dst slot>"``):
    tensor (str), dtype (str), shape (str).
    via (str): ``data``; ``shape`` (into an op that reads only the tensor's
        shape: ``Shape``, ``Rank``, ``Size``); ``arg`` (into a body); ``return`` (out of a body);
        ``loop`` (a While body result back to its argument); ``zero_fill`` (a
        While input straight into the While: TensorFlow zero-fills the
        gradient of a loop variable the body drops); ``pred`` (a
        branch predicate or loop condition); ``custom_forward`` (the forward
        result into a ``tf.custom_gradient``, whose gradient the custom
        function replaces).
    backprop (bool): the tensor's dtype can carry a gradient.
    open (bool): the gradient passes back along this edge.
    cut (cuts.Cut | None): why not, where the gradient dies at this edge.
    cut_at (str): ``"tail"`` when the cut belongs to the edge's producer (an
        integer result of an op the gradient reaches); otherwise the cut is
        the consumer's (absent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .cuts import input_via, is_backpropagatable
from .sources import Location, LocationResolver

__all__ = ["FlowGraph", "build_flowgraph", "CALL_TYPES"]

CALL_TYPES = frozenset(
    {"If", "StatelessIf", "Case", "StatelessCase", "While", "StatelessWhile",
     "PartitionedCall", "StatefulPartitionedCall"}
)
BRANCH_TYPES = frozenset({"If", "StatelessIf", "Case", "StatelessCase"})
LOOP_TYPES = frozenset({"While", "StatelessWhile"})


@dataclass
class FlowGraph:
    """The analysis graph.

    Attributes:
        G: the graph (see the module docstring for its attributes).
        loss: the node producing the loss.
        variables: variable name -> node id, for variables the trace reads.
        kind: the target kind (``callable``, ``keras``, ``tf1``).
        probe_errors: ops whose gradient function could not be probed.
        ops: node id -> ``tf.Operation``, kept for :meth:`location` alone.
        resolver: turns an op's traceback into the user's source line.
        memo: results derived from the finished graph that several stages read.
    """

    G: nx.MultiDiGraph
    loss: str
    variables: dict[str, str]
    kind: str = "callable"
    probe_errors: dict[str, str] = field(default_factory=dict)
    ops: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    resolver: LocationResolver | None = field(default=None, repr=False, compare=False)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def location(self, node: str) -> Location | None:
        """The user's source line that created ``node``'s op (None where TensorFlow kept none)."""
        data = self.G.nodes[node]
        if "location" not in data:
            op = self.ops.get(node)
            data["location"] = _location(op, self.resolver) if op is not None and self.resolver else None
        return data["location"]


class _Builder:
    def __init__(self, trace: Any) -> None:
        self.G = nx.MultiDiGraph()
        self.ops: dict[str, Any] = {}  # node id -> tf.Operation, for probing
        self.locations = LocationResolver(trace.target.source)
        self.trace = trace

    # -- nodes ---------------------------------------------------------------
    def add_graph(self, graph: Any, prefix: str, function: str, in_branch: bool = False) -> None:
        ops = graph.get_operations()
        for op in ops:
            self.add_node(op, prefix, function, in_branch)
        for op in ops:
            self.add_in_edges(op, prefix)

    def add_node(self, op: Any, prefix: str, function: str, in_branch: bool) -> None:
        nid = prefix + op.name
        scope = op.name.rpartition("/")[0]
        self.G.add_node(
            nid,
            name=op.name,
            type=op.type,
            function=function,
            scope="/".join(p for p in (function, scope) if p),
            outputs=tuple((t.dtype.base_dtype.name, _shape(t.shape)) for t in op.outputs),
            role="op",
            in_branch=in_branch,
            cut=None,
        )
        self.ops[nid] = op

    # -- edges ---------------------------------------------------------------
    def add_edge(self, src: str, dst: str, tensor: Any, src_slot: Any, dst_slot: Any, via: str) -> None:
        if src == dst:
            return
        outputs = self.G.nodes[src]["outputs"] if src in self.G else ()
        if isinstance(src_slot, int) and src_slot < len(outputs):
            dtype, shape = outputs[src_slot]  # the producer's node already has them
        else:
            dtype, shape = tensor.dtype.base_dtype.name, _shape(tensor.shape)
        self.G.add_edge(
            src,
            dst,
            key=f"{src_slot}:{dst_slot}",
            tensor=tensor.name,
            dtype=dtype,
            shape=shape,
            via=via,
            backprop=is_backpropagatable(dtype),
            open=False,
            cut=None,
        )

    def add_in_edges(self, op: Any, prefix: str) -> None:
        nid = prefix + op.name
        if op.type in CALL_TYPES and self.expand_call(op, prefix):
            return
        for i, t in enumerate(op.inputs):
            self.add_edge(prefix + t.op.name, nid, t, t.value_index, i, input_via(op, i))

    def expand_call(self, op: Any, prefix: str) -> bool:
        bodies = _bodies(op)
        if bodies is None:
            return False
        nid = prefix + op.name
        self.G.nodes[nid]["role"] = "call"
        first_data = 1 if op.type in BRANCH_TYPES else 0
        if first_data:
            pred = op.inputs[0]
            self.add_edge(prefix + pred.op.name, nid, pred, pred.value_index, 0, "pred")
        if op.type in LOOP_TYPES:
            # TensorFlow's while_loop gradient asks for the gradient of every
            # loop variable with unconnected_gradients="zero": once the loop
            # gets any gradient, each float input gets a tensor, zeros where
            # the body never carries it to a result.
            for k, t in enumerate(op.inputs):
                self.add_edge(prefix + t.op.name, nid, t, t.value_index, f"zf{k}", "zero_fill")
        for label, body in bodies:
            body_prefix = f"{nid}[{label}]/"
            outer = self.G.nodes[nid]["function"]
            function = f"{outer}/{op.name}[{label}]" if outer else f"{op.name}[{label}]"
            in_branch = self.G.nodes[nid]["in_branch"] or op.type in BRANCH_TYPES
            self.add_graph(body, body_prefix, function, in_branch)
            for arg in body.inputs:
                self.G.nodes[body_prefix + arg.op.name]["role"] = "arg"
            for k, arg in enumerate(body.inputs):
                if first_data + k < len(op.inputs):
                    t = op.inputs[first_data + k]
                    self.add_edge(prefix + t.op.name, body_prefix + arg.op.name, t, t.value_index, k, "arg")
            is_cond = op.type in LOOP_TYPES and label == "cond"
            for j, out in enumerate(body.outputs):
                src = body_prefix + out.op.name
                if is_cond:
                    self.add_edge(src, nid, out, out.value_index, "cond", "pred")
                    continue
                # Every result, read or not: TensorFlow differentiates a call op
                # as a whole, zero-filling the gradients of unread results.
                self.add_edge(src, nid, out, out.value_index, j, "return")
                if op.type in LOOP_TYPES:
                    # Loop-carried: result j is argument j of the next iteration,
                    # of the body and of the condition alike.
                    for other_label, other in bodies:
                        if j < len(other.inputs):
                            dst = f"{nid}[{other_label}]/{other.inputs[j].op.name}"
                            self.add_edge(src, dst, out, out.value_index, f"loop{j}", "loop")
        return True


def _bodies(op: Any) -> list[tuple[str, Any]] | None:
    """The FuncGraphs of a function-call op, as TensorFlow's own gradient code finds them."""
    try:
        if op.type in ("If", "StatelessIf"):
            from tensorflow.python.ops import cond_v2

            then_graph, else_graph = cond_v2.get_func_graphs(op)
            return [("then", then_graph), ("else", else_graph)]
        if op.type in ("Case", "StatelessCase"):
            from tensorflow.python.ops import cond_v2

            return [(f"branch{i}", g) for i, g in enumerate(cond_v2.get_func_graphs(op))]
        if op.type in LOOP_TYPES:
            from tensorflow.python.ops import while_v2

            cond = getattr(op, "_cond_graph", None) or while_v2._get_graph(op, "cond", "_cond_graph")
            body = getattr(op, "_body_graph", None) or while_v2._get_graph(op, "body", "_body_graph")
            return [("cond", cond), ("body", body)]
        if op.type in ("PartitionedCall", "StatefulPartitionedCall"):
            name = op.get_attr("f").name
            fn = op.graph._get_function(name)
            graph = getattr(fn, "graph", None) if fn is not None else None
            if graph is None:
                from tensorflow.python.framework import function_def_to_graph

                graph = function_def_to_graph.function_def_to_graph(fn.cached_definition if fn else None)
            label = name
            if label.startswith("__inference_"):
                label = label[len("__inference_"):].rsplit("_", 1)[0]
            return [(label, graph)]
    except Exception:  # noqa: BLE001 - fall back to treating the call as one op
        return None
    return None


def _location(op: Any, resolver: LocationResolver) -> Location | None:
    try:
        frames = op.traceback
    except Exception:  # noqa: BLE001 - ops rebuilt from a FunctionDef have none
        return None
    return resolver.location(frames) if frames else None


def _shape(shape: Any) -> str:
    if shape.rank is None:
        return "<unknown>"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def build_flowgraph(trace: Any) -> tuple[FlowGraph, dict[str, Any]]:
    """Snapshot the trace's graph (and every body in it) as a :class:`FlowGraph`.

    Must run before autodiff, which rewrites control-flow ops to output their
    intermediates. Returns the graph and the node id -> ``tf.Operation`` map
    that :func:`gradflow.cuts.annotate_cuts` needs.
    """
    b = _Builder(trace)
    b.add_graph(trace.graph, "", "")
    loss = trace.loss.op.name
    G = b.G
    if trace.target.kind != "tf1":
        for t in trace.graph.inputs:
            G.nodes[t.op.name]["role"] = "input"
    else:
        for t in trace.feed or {}:
            if t.op.name in G:
                G.nodes[t.op.name]["role"] = "input"
    variables = {}
    for ref in trace.variables:
        for replica in ref.replica_ops:
            _merge_into(G, replica, ref.op_name)
        if ref.op_name is not None and ref.op_name in G:
            G.nodes[ref.op_name]["role"] = "variable"
            G.nodes[ref.op_name]["variable"] = ref.name
            variables[ref.name] = ref.op_name
    G.nodes[loss]["role"] = "loss"
    G.graph["loss"] = loss
    flow = FlowGraph(G=G, loss=loss, variables=variables, kind=trace.target.kind, ops=b.ops,
                     resolver=b.locations)
    return flow, b.ops


def _merge_into(G: nx.MultiDiGraph, node: str, into: str | None) -> None:
    """Let ``into`` stand for ``node`` too: one variable node for all of a mirrored variable's copies."""
    if into is None or node not in G or into not in G:
        return
    for _, v, key, data in list(G.out_edges(node, keys=True, data=True)):
        G.add_edge(into, v, key=f"{key}@{node}", **data)
    G.remove_node(node)
