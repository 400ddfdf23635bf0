"""TF-free unit tests of cuts.py: the Cut record, the edge rules and annotate_cuts on hand-built graphs.

The probes themselves (TensorFlow's gradient registry) are tested against
TensorFlow in test_cut_matrix.py; here only the decisions that need no op.
"""

from __future__ import annotations

import json

import networkx as nx

from gradflow.cuts import Cut, CutKind, annotate_cuts, integer_edge_cut, is_stop_gradient_op
from gradflow.flowgraph import FlowGraph
from gradflow.schema import Blocker


def test_cut_kind_is_an_enum_with_the_json_words():
    assert CutKind("stop_gradient") is CutKind.STOP_GRADIENT
    assert str(CutKind.SHAPE_ONLY) == "shape_only" and CutKind.SHAPE_ONLY == "shape_only"
    assert json.dumps({"kind": CutKind.INTEGER_OUTPUT}) == '{"kind": "integer_output"}'
    blocker = Blocker("sg", "StopGradient", None, "tf.stop_gradient", CutKind.STOP_GRADIENT)
    assert blocker.to_dict()["kind"] == "stop_gradient" and type(blocker.to_dict()["kind"]) is str


def test_a_cut_turns_a_kind_word_into_the_enum_and_carries_its_facts():
    cut = Cut("custom_gradient", "custom gradient 'clip' returns None", "IdentityN", custom_gradient="clip")
    assert cut.kind is CutKind.CUSTOM_GRADIENT and cut.custom_gradient == "clip" and cut.op_type == "IdentityN"
    assert not cut.variable and cut.dtype == ""


def test_integer_edge_cut_names_the_producer_or_the_variable():
    top_k = integer_edge_cut("TopKV2", False, "int32")
    assert top_k == Cut(CutKind.INTEGER_OUTPUT, "TopKV2 gives int32 here, which carries no gradient", "TopKV2", "int32")
    var = integer_edge_cut("VarHandleOp", True, "int64")
    assert var.variable and var.reason == "the variable is int64: integer values carry no gradient"


def test_stop_gradient_predicate():
    assert is_stop_gradient_op("StopGradient")
    assert not is_stop_gradient_op("Identity") and not is_stop_gradient_op(None)


def _flow(edges, *, variables, loss, roles):
    """edges: (u, v, dtype, via); roles: node -> role (default op)."""
    G = nx.MultiDiGraph()
    for node in {n for e in edges for n in e[:2]}:
        G.add_node(node, type=roles.get(node, ("op", "Op"))[1], role=roles.get(node, ("op", "Op"))[0], cut=None)
    for k, (u, v, dtype, via) in enumerate(edges):
        G.add_edge(u, v, key=f"0:{k}", dtype=dtype, via=via, backprop=dtype.startswith("float"), open=False, cut=None)
    return FlowGraph(G=G, loss=loss, variables=variables)


def test_call_and_arg_edges_are_open_but_predicates_and_integer_edges_are_not():
    #   w ──float──> call ──float──> arg ──> (body, not probed here)
    #   w ──float──> call (pred)
    #   n ──int32──> call          (an int variable: cut at the variable)
    flow = _flow(
        [("w", "call", "float32", "data"), ("w", "call", "float32", "pred"),
         ("n", "call", "int32", "data"), ("call", "arg", "float32", "arg")],
        variables={"w": "w", "n": "n"}, loss="call",
        roles={"w": ("variable", "VarHandleOp"), "n": ("variable", "VarHandleOp"), "call": ("call", "While"),
               "arg": ("arg", "Placeholder")},
    )
    annotate_cuts(flow, ops={})  # no op is probed: every node between is a call or an argument
    G = flow.G
    by_via = {(u, d["via"], d["dtype"]): d for u, v, d in G.in_edges("call", data=True)}
    assert by_via[("w", "data", "float32")]["open"] is True
    assert by_via[("w", "pred", "float32")]["open"] is False
    int_edge = by_via[("n", "data", "int32")]
    assert int_edge["open"] is False and int_edge["cut_at"] == "tail"
    assert int_edge["cut"].variable and G.nodes["n"]["cut"] is int_edge["cut"]
    assert flow.probe_errors == {}
