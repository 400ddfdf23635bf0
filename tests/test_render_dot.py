"""render/dot.py (with view, focus, collapse, dotsyntax) on hand-built graphs: structure, colour code, views, escaping.

TF-free: each test builds the analysis graph (the attributes documented in
gradflow/flowgraph.py) and the report by hand, then asserts on the DOT source
turned back into nodes and edges, the way Keras's model_visualization_test
asserts on ``get_edge_dict(model_to_dot(model))``.
"""

from __future__ import annotations

import re
import subprocess

import networkx as nx
import pytest

from gradflow.analysis import PathCount
from gradflow.cuts import Cut
from gradflow.errors import UserError
from gradflow.flowgraph import FlowGraph
from gradflow.render import collapse
from gradflow.render import dot as gdot
from gradflow.render import dotsyntax
from gradflow.render.theme import CUT_COLOUR, STATUS_STYLES, STATUS_TINTS
from gradflow.report import Blocker, Report, Status, VariableReport
from gradflow.sources import Location

GREEN = STATUS_STYLES[Status.FLOWS].colour
RED = STATUS_STYLES[Status.BLOCKED].colour
SRC = "model.py"
SG_CUT = Cut("stop_gradient", "tf.stop_gradient")


# -- building graphs by hand ---------------------------------------------------
def add_op(G, nid, type_, *, role="op", scope=None, variable=None, cut=None, dtype="float32", shape="[8, 1]",
           line=14, function=""):
    name = nid.rpartition("]/")[2] if "]/" in nid else nid
    G.add_node(nid, name=name, type=type_, function=function,
               scope=scope if scope is not None else name.rpartition("/")[0],
               location=Location(SRC, line), outputs=((dtype, shape),), role=role, in_branch=False, cut=cut)
    if variable is not None:
        G.nodes[nid]["variable"] = variable


def add_edge(G, u, v, *, slot=0, open_=True, cut=None, dtype="float32", via="data", out_slot=0):
    G.add_edge(u, v, key=f"{out_slot}:{slot}", tensor=f"{u}:{out_slot}", dtype=dtype, shape="[8, 1]", via=via,
               backprop=dtype.startswith("float") or dtype == "resource", open=open_, cut=cut)


def make_report(G, loss, variables, *, stop_gradients=()):
    """variables: (name, node, status, trainable, blockers)."""
    reports = []
    for name, node, status, trainable, blockers in variables:
        reports.append(VariableReport(
            name=name, shape=(5, 1), dtype="float32", trainable=trainable, status=status,
            grad_norm=1.5 if status is Status.FLOWS else None, paths=PathCount(1, 1 if blockers else 0),
            blockers=tuple(blockers), why="tf.stop_gradient at model.py:14" if blockers else "", node=node))
    flow = FlowGraph(G=G, loss=loss, variables={n: node for n, node, *_ in variables if node is not None})
    return Report(source=SRC, target="loss", kind="callable", inputs="example_inputs", variables=tuple(reports),
                  stop_gradients=stop_gradients, flow=flow)


def canonical(*, w3_trainable=True):
    """``loss = mean(square(x @ w1 - stop_gradient(x @ (w2 * w3))))``::

        w1 ─> read1 ─> matmul ─────────────────────────> sub ─> square ─> mean ─> loss
        w2 ─> read2 ─┐                                   ^
                     mul ─> matmul_1 ─╳─> StopGradient ──┘
        w3 ─> read3 ─┘
        x ─> matmul, matmul_1
    """
    G = nx.MultiDiGraph()
    add_op(G, "x", "Placeholder", role="input", shape="[8, 5]")
    for i, reader in ((1, "matmul"), (2, "mul"), (3, "mul")):
        add_op(G, f"w{i}", "VarHandleOp", role="variable", variable=f"w{i}", dtype="resource", shape="[]")
        add_op(G, f"{reader}/ReadVariableOp_{i}", "ReadVariableOp", shape="[5, 1]")
    for nid, t in (("matmul", "MatMul"), ("mul", "Mul"), ("matmul_1", "MatMul"), ("sub", "Sub"),
                   ("Square", "Square"), ("Mean", "Mean"), ("Identity", "Identity")):
        add_op(G, nid, t, role="loss" if nid == "Identity" else "op")
    add_op(G, "StopGradient", "StopGradient", cut=SG_CUT)
    add_edge(G, "x", "matmul")
    add_edge(G, "x", "matmul_1")
    add_edge(G, "w1", "matmul/ReadVariableOp_1", dtype="resource")
    add_edge(G, "matmul/ReadVariableOp_1", "matmul", slot=1)
    add_edge(G, "w2", "mul/ReadVariableOp_2", dtype="resource")
    add_edge(G, "w3", "mul/ReadVariableOp_3", dtype="resource")
    add_edge(G, "mul/ReadVariableOp_2", "mul")
    add_edge(G, "mul/ReadVariableOp_3", "mul", slot=1)
    add_edge(G, "mul", "matmul_1", slot=1)
    add_edge(G, "matmul_1", "StopGradient", open_=False, cut=SG_CUT)
    add_edge(G, "matmul", "sub")
    add_edge(G, "StopGradient", "sub", slot=1)
    add_edge(G, "sub", "Square")
    add_edge(G, "Square", "Mean")
    add_edge(G, "Mean", "Identity")
    sg = Blocker(op="StopGradient", type="StopGradient", location=Location(SRC, 14), reason="tf.stop_gradient",
                 kind="stop_gradient")
    return make_report(G, "Identity", [
        ("w1", "w1", Status.FLOWS, True, ()),
        ("w2", "w2", Status.BLOCKED, True, (sg,)),
        ("w3", "w3", Status.BLOCKED, w3_trainable, (sg,)),
    ])


# -- reading DOT back ------------------------------------------------------------
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|<(?:[^<>]|<[^<>]*>)*>|[^\s\]]+)')
_NODE = re.compile(r'^\t+("(?:[^"\\]|\\.)*"|[^\s"\[]+) \[(.*)\]$')
_EDGE = re.compile(r'^\t+("(?:[^"\\]|\\.)*"|[^\s"]+) -> ("(?:[^"\\]|\\.)*"|[^\s"\[]+)(?: \[(.*)\])?$')


def _unquote(text):
    return text[1:-1].replace('\\"', '"') if text.startswith('"') else text


def _attrs(text):
    return {k: _unquote(v) for k, v in _ATTR.findall(text or "")}


def parse_dot(source):
    """(nodes, edges): node id -> attrs, and [(tail, head, attrs)] (legend left out)."""
    nodes, edges = {}, []
    for line in source.splitlines():
        m = _EDGE.match(line)
        if m:
            u, v = _unquote(m.group(1)), _unquote(m.group(2))
            if not u.startswith("_legend"):
                edges.append((u, v, _attrs(m.group(3))))
            continue
        m = _NODE.match(line)
        if m:
            nid = _unquote(m.group(1))
            if not nid.startswith("_legend") and nid not in ("graph", "node", "edge"):
                nodes[nid] = _attrs(m.group(2))
    return nodes, edges


def get_edge_dict(source):
    """tail -> set of heads, as Keras's tests read a model's plot."""
    d = {}
    for u, v, _ in parse_dot(source)[1]:
        d.setdefault(u, set()).add(v)
    return d


def edge(edges, u, v):
    found = [a for t, h, a in edges if t == u and h == v]
    assert len(found) == 1, f"{u} -> {v}: {found}"
    return found[0]


# -- tests -----------------------------------------------------------------------
class TestFlowView:
    def test_edges_of_the_canonical_example(self):
        src = gdot.to_dot(canonical()).source
        # ReadVariableOps are contracted; x is not on a variable->loss path.
        assert get_edge_dict(src) == {
            "w1": {"matmul"},
            "w2": {"mul"},
            "w3": {"mul"},
            "mul": {"matmul_1"},
            "matmul_1": {"StopGradient"},
            "matmul": {"sub"},
            "StopGradient": {"sub"},
            "sub": {"Square"},
            "Square": {"Mean"},
            "Mean": {"Identity"},
        }

    def test_colour_code(self):
        nodes, edges = parse_dot(gdot.to_dot(canonical()).source)
        assert nodes["w1"]["fillcolor"] == GREEN and "filled" in nodes["w1"]["style"]
        assert nodes["w2"]["fillcolor"] == RED and nodes["w3"]["fillcolor"] == RED
        assert nodes["StopGradient"]["shape"] == "octagon" and nodes["StopGradient"]["fillcolor"] == CUT_COLOUR
        assert nodes["Identity"]["shape"] == "doublecircle"
        assert "loss" in nodes["Identity"]["label"]
        # Strong green path from w1 to the loss.
        for u, v in [("w1", "matmul"), ("matmul", "sub"), ("sub", "Square"), ("Square", "Mean"),
                     ("Mean", "Identity")]:
            a = edge(edges, u, v)
            assert a["color"] == GREEN and float(a["penwidth"]) >= 2, (u, v, a)
        assert nodes["matmul"]["color"] == GREEN
        # Behind the cut: red and dashed; the cut edge too.
        for u, v in [("w2", "mul"), ("w3", "mul"), ("mul", "matmul_1"), ("matmul_1", "StopGradient")]:
            a = edge(edges, u, v)
            assert a["color"] == CUT_COLOUR and "dashed" in a.get("style", ""), (u, v, a)
        # Ops that only compute forward values are faint, not green.
        assert nodes["mul"]["color"] != GREEN and nodes["matmul_1"]["color"] != GREEN
        # After the cut the value flows forward only: neither strong nor red.
        a = edge(edges, "StopGradient", "sub")
        assert a["color"] not in (GREEN, CUT_COLOUR)

    def test_legend_is_a_cluster_with_every_status(self):
        src = gdot.to_dot(canonical()).source
        assert "subgraph cluster__legend" in src
        legend = src[src.index("subgraph cluster__legend"):]
        for status in Status:
            assert f'"_legend/{status.value}"' in legend
            assert STATUS_STYLES[status].colour in legend
        for shape in ("octagon", "doublecircle", "box3d", "diagonals", "dashed"):
            assert shape in legend

    def test_non_trainable_is_dashed_and_quietly_grey(self):
        # Not learning by design (BatchNorm statistics, seed states): grey, never red.
        nodes, _ = parse_dot(gdot.to_dot(canonical(w3_trainable=False)).source)
        assert "dashed" in nodes["w3"]["style"] and nodes["w3"]["fillcolor"] == STATUS_TINTS[Status.DISCONNECTED]
        assert "dashed" not in nodes["w2"]["style"]

    def test_tooltips_on_every_node(self):
        nodes, _ = parse_dot(gdot.to_dot(canonical()).source)
        for nid, attrs in nodes.items():
            assert "tooltip" in attrs and "id" in attrs, nid
        tip = nodes["matmul"]["tooltip"]
        assert "MatMul" in tip and "float32" in tip and "[8, 1]" in tip and "model.py:14" in tip
        assert "status:" in tip
        assert "blocked" in nodes["w2"]["tooltip"]

    def test_other_cut_names_its_reason(self):
        report = canonical()
        G = report.flow.G
        cut = Cut("not_differentiable", "ArgMax has no gradient")
        G.nodes["StopGradient"].update(type="ArgMax", cut=cut)
        for _, _, d in G.in_edges("StopGradient", data=True):
            d["cut"] = cut
        nodes, _ = parse_dot(gdot.to_dot(report).source)
        node = nodes["StopGradient"]
        assert node["shape"] != "octagon" and node["color"] == CUT_COLOUR
        assert "ArgMax has no gradient" in node["label"]


class TestFullView:
    def test_full_view_keeps_trivial_ops_and_inputs(self):
        src = gdot.to_dot(canonical(), view="full").source
        d = get_edge_dict(src)
        assert d["w1"] == {"matmul/ReadVariableOp_1"}
        assert d["x"] == {"matmul", "matmul_1"}
        nodes, edges = parse_dot(src)
        assert nodes["x"]["shape"] == "parallelogram"

    def test_unknown_view(self):
        with pytest.raises(ValueError, match="view"):
            gdot.to_dot(canonical(), view="sideways")


def scoped_model(n_layers=40):
    """A chain of ``n_layers`` dense layers, each in its own scope ``model/dense_<i>``."""
    G = nx.MultiDiGraph()
    add_op(G, "x", "Placeholder", role="input")
    prev = "x"
    variables = []
    for i in range(n_layers):
        scope = f"model/dense_{i}"
        add_op(G, f"{scope}/kernel", "VarHandleOp", role="variable", scope=f"{scope}/MatMul/ReadVariableOp",
               variable=f"dense_{i}/kernel", dtype="resource")
        add_op(G, f"{scope}/MatMul/ReadVariableOp", "ReadVariableOp", scope=f"{scope}/MatMul")
        add_op(G, f"{scope}/MatMul", "MatMul", scope=scope)
        add_op(G, f"{scope}/Relu", "Relu", scope=scope)
        add_edge(G, f"{scope}/kernel", f"{scope}/MatMul/ReadVariableOp", dtype="resource")
        add_edge(G, f"{scope}/MatMul/ReadVariableOp", f"{scope}/MatMul", slot=1)
        add_edge(G, prev, f"{scope}/MatMul")
        add_edge(G, f"{scope}/MatMul", f"{scope}/Relu")
        prev = f"{scope}/Relu"
        variables.append((f"dense_{i}/kernel", f"{scope}/kernel", Status.FLOWS, True, ()))
    add_op(G, "loss", "Mean", role="loss", scope="")
    add_edge(G, prev, "loss")
    return make_report(G, "loss", variables)


class TestScopesAndCollapse:
    def test_scopes_are_clusters_and_variables_sit_in_their_layer(self):
        src = gdot.to_dot(scoped_model(3)).source
        assert 'subgraph "cluster_model/dense_1"' in src
        # The variable is drawn in its layer's cluster, not in a "MatMul" helper scope.
        assert "cluster_model/dense_1/MatMul" not in src
        block = src[src.index('subgraph "cluster_model/dense_1"'):]
        block = block[: block.index("}")]
        assert '"model/dense_1/kernel"' in block

    def test_auto_collapse_keeps_under_max_nodes_and_says_so(self):
        report = scoped_model(40)
        drawing = gdot.build_drawing(report, max_nodes=30)
        assert drawing.total > 30 and drawing.nodes <= 30
        assert drawing.note and "collapsed to depth" in drawing.note and "--collapse" in drawing.note
        src = drawing.digraph.source
        assert "collapsed to depth" in src  # in the picture's own label
        nodes, edges = parse_dot(src)
        groups = [n for n, a in nodes.items() if a.get("shape") == "box3d"]
        assert groups
        assert all(drawing.titles[nodes[g]["id"]].startswith("collapsed scope") for g in groups)
        assert drawing.variable_ids["dense_0/kernel"] in {nodes[g]["id"] for g in groups}
        # Coloured by the worst status inside, labelled with counts.
        assert all(nodes[g]["fillcolor"] == GREEN for g in groups)
        flows = [int(m) for g in groups for m in re.findall(r"(\d+) flows", nodes[g]["label"])]
        assert sum(flows) == 40
        # The chain survives collapsing, strong all the way to the loss.
        assert any(v == "loss" and a["color"] == GREEN for _, v, a in edges)

    def test_no_collapse_when_small(self):
        drawing = gdot.build_drawing(scoped_model(3))
        assert drawing.note is None and drawing.depth is None
        assert "box3d" not in drawing.digraph.source.split("cluster__legend")[0]

    def test_explicit_collapse_depth(self):
        drawing = gdot.build_drawing(scoped_model(5), collapse=0)
        nodes, _ = parse_dot(drawing.digraph.source)
        groups = [n for n, a in nodes.items() if a.get("shape") == "box3d"]
        assert len(groups) == 1 and "5 variables" in nodes[groups[0]]["label"]
        assert drawing.note is None  # asked for: nothing to announce

    def test_worst_status_colours_a_group(self):
        report = scoped_model(4)
        vs = list(report.variables)
        vs[2] = VariableReport(**{**vs[2].__dict__, "status": Status.ZERO})
        report = Report(**{**report.__dict__, "variables": tuple(vs)})
        nodes, _ = parse_dot(gdot.build_drawing(report, collapse=0).digraph.source)
        (group,) = [a for a in nodes.values() if a.get("shape") == "box3d"]
        assert group["fillcolor"] == STATUS_STYLES[Status.ZERO].colour

    def test_many_sibling_scopes_get_prefix_groups(self):
        names = [f"conv{b}_block{i}_{j}" for b in (2, 3) for i in range(1, 25) for j in ("bn", "conv")]
        groups = collapse.group_names(sorted(names))
        assert groups["conv2_block7_bn"] == ("conv2*", "conv2_block7*")
        assert groups["conv3_block24_conv"] == ("conv3*", "conv3_block24*")
        assert collapse.group_names(["a", "b"]) == {"a": (), "b": ()}
        # Auto-named layers share no prefix beyond "dense": runs of ten, in natural order.
        runs = collapse.group_names(["dense"] + [f"dense_{i}" for i in range(1, 40)])
        assert runs["dense"] == ()
        assert runs["dense_5"] == runs["dense_10"] == ("dense*", "dense_1 … dense_10*")
        assert runs["dense_11"] == ("dense*", "dense_11 … dense_20*")


    def test_siblings_outside_the_groups_are_balanced(self):
        raw = {f"op{b}{i}{j}": ("m", f"conv{b}_block{i}_{j}") for b in (2, 3) for i in range(20) for j in (0, 1)}
        raw["mean"] = ("m", "bn", "moments")
        paths = collapse.group_paths(raw)
        assert paths["op270"] == ("m", "conv2*", "conv2_block7*", "conv2_block7_0")
        assert paths["mean"] == ("m", "bn+", "bn+", "bn", "moments")
        # At depth 2 every block is one node, and so is the whole "bn" layer.
        assert collapse.count_at(paths, 2) == 40 + 1
        assert collapse.display_path(paths["mean"]) == "m/bn/moments"


class TestFocus:
    def test_focus_draws_only_that_variables_paths(self):
        report = scoped_model(5)
        src = gdot.to_dot(report, focus="dense_3/kernel").source
        d = get_edge_dict(src)
        assert "model/dense_3/kernel" in d
        assert "model/dense_1/kernel" not in src and "model/dense_4/kernel" not in src
        assert "model/dense_4/MatMul" in d  # downstream of dense_3, on its way to the loss

    def test_focus_on_a_scope(self):
        report = scoped_model(5)
        src = gdot.to_dot(report, focus="dense_2").source
        assert "model/dense_2/kernel" in src and "model/dense_1/kernel" not in src

    def test_focus_keeps_its_own_layer_open_and_collapses_the_rest_to_the_budget(self):
        drawing = gdot.build_drawing(scoped_model(40), focus="dense_0/kernel", max_nodes=50)
        assert drawing.depth is not None and drawing.nodes <= 50
        nodes, _ = parse_dot(drawing.digraph.source)
        assert "model/dense_0/MatMul" in nodes  # the focused layer, expanded
        assert "model/dense_5/MatMul" not in nodes  # others collapsed
        small = gdot.build_drawing(scoped_model(5), focus="dense_0/kernel", max_nodes=50)
        assert small.depth is None  # under the budget: fully expanded

    def test_long_chains_wrap_into_columns(self):
        drawing = gdot.build_drawing(scoped_model(60), max_nodes=1000)
        _, edges = parse_dot(drawing.digraph.source)
        free = [e for e in edges if e[2].get("constraint") == "false"]
        assert 1 <= len(free) <= 12  # a few edges between stages, each stage a column
        short = gdot.build_drawing(scoped_model(3), max_nodes=1000)
        assert 'constraint="false"' not in short.digraph.source and "constraint=false" not in short.digraph.source

    def test_unknown_focus_lists_close_names(self):
        with pytest.raises(UserError, match="dense_3/kernel"):
            gdot.to_dot(scoped_model(5), focus="dense_3/kernal")


class TestEscaping:
    HOSTILE = ["<script>alert(1)</script>", '" onload="x', "back\\slash\\", "a]b[c", "&amp; <b>bold</b>",
               "new\nline"]

    def hostile_report(self):
        report = canonical()
        G = report.flow.G
        names = self.HOSTILE[:3]
        vs = []
        for v, name in zip(report.variables, names):
            vs.append(VariableReport(**{**v.__dict__, "name": name, "why": name}))
        return Report(**{**report.__dict__, "variables": tuple(vs), "target": self.HOSTILE[3],
                         "source": self.HOSTILE[4]})

    def test_hostile_names_are_text_in_dot(self):
        src = gdot.to_dot(self.hostile_report()).source
        nodes, _ = parse_dot(src)
        labels = " ".join(a["label"] for a in nodes.values())
        # HTML-like labels: the names are entities, never tags.
        assert "<script>" not in labels and "&lt;script&gt;alert(1)&lt;/script&gt;" in labels
        assert "&quot; onload=&quot;x" in labels
        assert "<b>bold" not in src and "&amp;amp; &lt;b&gt;bold&lt;/b&gt;" in src
        # Tooltips are quoted DOT strings: the quote is escaped, the text kept.
        assert nodes["w2"]["tooltip"].startswith('variable " onload="x')
        assert nodes["w1"]["tooltip"].startswith("variable <script>alert(1)</script>")

    def test_hostile_names_survive_graphviz(self):
        src = gdot.to_dot(self.hostile_report()).source
        proc = subprocess.run(["dot", "-Tsvg"], input=src.encode(), capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr.decode()
        svg = proc.stdout.decode()
        assert "<script" not in svg and "onload=\"" not in svg
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
        assert "back\\slash\\" in svg

    def test_escape_helpers(self):
        for name in self.HOSTILE:
            text = dotsyntax.html_text(name)
            assert "<" not in text and ">" not in text and '"' not in text and "\n" not in text
        assert dotsyntax.esc_string(["a\\", "b"]) == "a\\\\\\nb"
        assert dotsyntax.dot_id("matmul/ReadVariableOp") == "matmul/ReadVariableOp"
        assert dotsyntax.dot_id('a"b').startswith("_h/") and dotsyntax.dot_id("a:b").startswith("_h/")


class TestDeterminism:
    def test_same_input_same_dot(self):
        a = gdot.to_dot(canonical()).source
        b = gdot.to_dot(canonical()).source
        assert a == b
        big_a = gdot.to_dot(scoped_model(40), max_nodes=30).source
        big_b = gdot.to_dot(scoped_model(40), max_nodes=30).source
        assert big_a == big_b

    def test_ids_come_from_the_analysis_graph(self):
        nodes, _ = parse_dot(gdot.to_dot(canonical()).source)
        assert {"w1", "w2", "w3", "matmul", "StopGradient", "Identity"} <= set(nodes)
        for attrs in nodes.values():
            assert re.fullmatch(r"gf_[a-z]_[0-9a-f]{12}", attrs["id"])

    def test_no_analysis_graph(self):
        report = Report(**{**canonical().__dict__, "flow": None})
        with pytest.raises(gdot.RenderError):
            gdot.to_dot(report)
