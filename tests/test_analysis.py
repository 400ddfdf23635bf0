"""TF-free tests of the analysis functions on small hand-built graphs."""

from __future__ import annotations

import networkx as nx

from gradflow.analysis import blockers_of, count_paths, forward_ancestors, open_ancestors, shields
from gradflow.cuts import Cut


def graph(*edges):
    """Edges as (u, v) open, or (u, v, cut_reason) cut, or (u, v, None, via)."""
    G = nx.MultiDiGraph()
    for edge in edges:
        u, v = edge[:2]
        reason = edge[2] if len(edge) > 2 else None
        via = edge[3] if len(edge) > 3 else "data"
        cut = Cut("stop_gradient", reason) if reason else None
        G.add_edge(u, v, open=cut is None and via not in ("pred",), cut=cut, via=via)
    return G


# The canonical example:
#   w2 ─┐
#       mul ──> matmul ──> sg ╳──> sub ──> loss
#   w3 ─┘                           ^
#   w1 ──────> matmul_1 ────────────┘
CANONICAL = graph(
    ("w2", "mul"), ("w3", "mul"), ("mul", "matmul"), ("matmul", "sg", "tf.stop_gradient"),
    ("sg", "sub"), ("w1", "matmul_1"), ("matmul_1", "sub"), ("sub", "loss"),
)


class TestReach:
    def test_open_ancestors_exclude_shielded_variables(self):
        opening = open_ancestors(CANONICAL, "loss")
        assert "w1" in opening and not {"w2", "w3", "mul", "matmul"} & opening

    def test_forward_ancestors_include_shielded_variables(self):
        assert {"w1", "w2", "w3"} <= forward_ancestors(CANONICAL, "loss")

    def test_unread_variable_reaches_nothing(self):
        G = CANONICAL.copy()
        G.add_node("w4")
        assert "w4" not in forward_ancestors(G, "loss")


class TestCountPaths:
    def test_canonical(self):
        counts = count_paths(CANONICAL, "loss", ["w1", "w2", "w3"])
        assert (counts["w1"].total, counts["w1"].blocked) == (1, 0)
        assert (counts["w2"].total, counts["w2"].blocked) == (1, 1)

    def test_diamond_counts_both_paths(self):
        #   v ──> a ──> c ──> loss
        #   v ──> b ╳─> c
        G = graph(("v", "a"), ("v", "b"), ("a", "c"), ("b", "c", "cut"), ("c", "loss"))
        assert count_paths(G, "loss", ["v"])["v"].total == 2
        assert count_paths(G, "loss", ["v"])["v"].blocked == 1

    def test_loop_back_edges_are_not_counted(self):
        # v ──> body ──> call ──> loss, with body ──loop──> arg ──> body
        G = graph(("v", "arg"), ("arg", "body"), ("body", "call"), ("call", "loss"),
                  ("body", "arg", None, "loop"))
        assert count_paths(G, "loss", ["v"])["v"].total == 1

    def test_remaining_cycle_is_condensed(self):
        # a TF1 loop: merge <-> next_iteration, not marked as loop edges
        G = graph(("v", "merge"), ("merge", "body"), ("body", "merge"), ("body", "loss"))
        assert count_paths(G, "loss", ["v"])["v"].total >= 1

    def test_cap(self):
        # 30 diamonds in a row: 2**30 paths
        G = nx.MultiDiGraph()
        prev = "v"
        for i in range(30):
            for side in "ab":
                G.add_edge(prev, f"{side}{i}", open=True, cut=None, via="data")
                G.add_edge(f"{side}{i}", f"j{i}", open=True, cut=None, via="data")
            prev = f"j{i}"
        G.add_edge(prev, "loss", open=True, cut=None, via="data")
        capped = count_paths(G, "loss", ["v"], cap=1000)["v"]
        assert capped.capped and capped.total == 1000
        assert count_paths(G, "loss", ["v"])["v"].total == 2**30

    def test_shape_reads_only_count_when_nothing_else(self):
        G = graph(("v", "shape", None, "shape"), ("shape", "loss"))
        assert count_paths(G, "loss", ["v"])["v"].total == 1
        G2 = graph(("v", "shape", None, "shape"), ("shape", "loss"), ("v", "loss"))
        assert count_paths(G2, "loss", ["v"])["v"].total == 1


class TestBlockers:
    def test_canonical(self):
        assert blockers_of(CANONICAL, "w2", "loss") == ["sg"]
        assert blockers_of(CANONICAL, "w1", "loss") == []

    def test_only_the_first_cut_of_a_path(self):
        # v ──> round ╳──> sg ╳──> loss: the path dies at round
        G = graph(("v", "round", "Round"), ("round", "sg", "tf.stop_gradient"), ("sg", "loss"))
        assert blockers_of(G, "v", "loss") == ["round"]

    def test_cut_off_the_path_to_the_loss_is_ignored(self):
        G = graph(("v", "loss"), ("v", "argmax", "ArgMax"), ("argmax", "summary"))
        assert blockers_of(G, "v", "loss") == []

    def test_custom_gradient_forward_edges_are_not_paths(self):
        # v ──> round ╳─custom_forward─> identity_n ──> loss ; v ──> identity_n (cut: grad None)
        G = graph(("v", "round", "Round"), ("round", "identity_n", None, "custom_forward"),
                  ("v", "identity_n", "custom"), ("identity_n", "loss"))
        G.edges["round", "identity_n", 0]["open"] = False
        assert blockers_of(G, "v", "loss") == ["identity_n"]


class TestShields:
    def test_canonical(self):
        assert shields(CANONICAL, ["sg"], ["w1", "w2", "w3"], "loss") == {"sg": ["w2", "w3"]}

    def test_a_second_path_escapes_the_shield(self):
        G = CANONICAL.copy()
        G.add_edge("w2", "sub", open=True, cut=None, via="data")
        assert shields(G, ["sg"], ["w1", "w2", "w3"], "loss") == {"sg": ["w3"]}

    def test_nested_shields(self):
        # w ──> sg1 ──> sg2 ──> loss : both shield w
        G = graph(("w", "sg1", "c"), ("sg1", "sg2", "c"), ("sg2", "loss"), ("u", "loss"))
        assert shields(G, ["sg1", "sg2"], ["w", "u"], "loss") == {"sg1": ["w"], "sg2": ["w"]}


class TestSeparators:
    """Separators (one network, a dominator tree, max-flow only when one cut is not enough)
    must give every variable exactly what decisive_cuts gives it alone."""

    @staticmethod
    def random_graph(rng, n):
        # A random DAG over n ops in topological order; the last is the loss. Each edge is
        # open, a cut (the consumer's or, as for an integer result, the producer's), or a
        # predicate that carries no gradient.
        G = nx.MultiDiGraph()
        G.add_node(n - 1)
        for v in range(1, n):
            for u in rng.sample(range(v), min(v, rng.choice([1, 1, 2, 3]))):
                kind = rng.random()
                if kind < 0.55:
                    G.add_edge(u, v, open=True, cut=None)
                elif kind < 0.9:
                    G.add_edge(u, v, open=False, cut=Cut("stop_gradient", "sg"),
                               **({"cut_at": "tail"} if rng.random() < 0.3 else {}))
                else:
                    G.add_edge(u, v, open=False, cut=None, via="pred")
        return G

    def test_equal_to_decisive_cuts_on_random_graphs(self):
        import random

        from gradflow.analysis import Separators, decisive_cuts

        rng = random.Random(7)
        sizes, seen = (6, 12, 25, 40), {0: 0, 1: 0, 2: 0}
        for trial in range(400):
            n = sizes[trial % len(sizes)]
            G = self.random_graph(rng, n)
            loss = n - 1
            prefer = (lambda op: op % 2) if trial % 2 else None
            separators = Separators(G, loss)
            for source in range(n - 1):
                alone = decisive_cuts(G, source, loss, prefer=prefer)
                assert separators(source, prefer=prefer) == alone, (trial, source, sorted(G.edges(data=True)))
                seen[min(len(alone), 2)] += 1
        assert all(seen.values()), seen  # the dominator path (one cut) and the max-flow path (two or more) both ran

    def test_one_cut_nearest_the_loss_when_preferred(self):
        from gradflow.analysis import Separators

        # w ─╳ a ─╳ loss: two cuts in a row, each alone separates w from the loss.
        G = graph(("w", "a", "sg1"), ("a", "loss", "sg2"))
        assert Separators(G, "loss")("w") == ["a"]
        assert Separators(G, "loss")("w", prefer=lambda op: op == "loss") == ["loss"]
