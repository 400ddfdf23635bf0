"""TF-free unit tests of verdict.py: statuses from TensorFlow's answer, static facts of a hand-built graph."""

from __future__ import annotations

import networkx as nx
import pytest

from gradflow.autodiff import GradFacts
from gradflow.cuts import Cut, CutKind
from gradflow.flowgraph import FlowGraph
from gradflow.schema import PathCount, Status
from gradflow.verdict import StaticFacts, decide, static_facts

READS = StaticFacts(reads=True, opens=False, paths=PathCount(1, 1), blockers=("sg",))
OPENS = StaticFacts(reads=True, opens=True, paths=PathCount(1, 0), blockers=())


@pytest.mark.parametrize("grad, facts, status", [
    (GradFacts(True), READS, Status.BLOCKED),
    (GradFacts(True), None, Status.DISCONNECTED),
    (GradFacts(False, 1.0, True, False), OPENS, Status.FLOWS),
    (GradFacts(False, 0.0, True, True), OPENS, Status.ZERO),
    (GradFacts(False, None, False, False), OPENS, Status.NONFINITE),
    (None, OPENS, Status.FLOWS),  # autodiff could not run: the graph's prediction stands in
    (None, READS, Status.BLOCKED),
])
def test_decide_follows_tensorflow(grad, facts, status):
    assert decide(grad, facts) is status


def test_static_facts_of_the_canonical_graph():
    #   w2 ──> mul ──> sg ╳──> sub ──> loss
    #   w1 ──────────────────> sub
    G = nx.MultiDiGraph()
    sg = Cut(CutKind.STOP_GRADIENT, "tf.stop_gradient", "StopGradient")
    for node, role in (("w1", "variable"), ("w2", "variable"), ("mul", "op"), ("sg", "op"), ("sub", "op"),
                       ("loss", "loss")):
        G.add_node(node, role=role, type="StopGradient" if node == "sg" else "Op", function="", in_branch=False,
                   cut=sg if node == "sg" else None)
    for u, v in (("w2", "mul"), ("mul", "sg"), ("sg", "sub"), ("w1", "sub"), ("sub", "loss")):
        cut = sg if v == "sg" else None
        G.add_edge(u, v, key="0:0", via="data", open=cut is None, cut=cut, backprop=True)
    flow = FlowGraph(G=G, loss="loss", variables={"w1": "w1", "w2": "w2"})
    facts = static_facts(flow)
    assert facts["w1"].opens and facts["w1"].paths == PathCount(1, 0) and facts["w1"].blockers == ()
    assert facts["w2"].reads and not facts["w2"].opens
    assert facts["w2"].paths == PathCount(1, 1) and facts["w2"].blockers == ("sg",)
