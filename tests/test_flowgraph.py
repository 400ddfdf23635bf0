"""TF-free unit tests of flowgraph.py's FlowGraph (building one from a trace is tested against TensorFlow
in test_cut_matrix.py, test_differential.py and the fuzz tests)."""

from __future__ import annotations

import networkx as nx

from gradflow.flowgraph import CALL_TYPES, FlowGraph
from gradflow.schema import Location


def test_location_is_read_once_and_none_without_an_op():
    G = nx.MultiDiGraph()
    G.add_node("a")
    G.add_node("b", location=Location("m.py", 3))
    flow = FlowGraph(G=G, loss="b", variables={})
    assert flow.location("a") is None and G.nodes["a"]["location"] is None  # remembered
    assert flow.location("b") == Location("m.py", 3)


def test_call_types_are_the_function_call_ops_gradflow_inlines():
    assert {"If", "StatelessIf", "Case", "While", "StatefulPartitionedCall"} <= CALL_TYPES
    assert "IdentityN" not in CALL_TYPES
