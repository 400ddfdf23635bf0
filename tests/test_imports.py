"""The layout's import rules, read from the source with ``ast`` (no TensorFlow, nothing imported).

docs/architecture.md: imports go one way, so there is no import cycle, not even
through an import inside a function, apart from the lazy facades of ``Report``
and ``TrainReport`` (and ``Diff``) into ``render/``; and no private name (``_x``) is imported
from another module.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "gradflow"

# The lazy facades: Report, TrainReport and Diff render themselves through render/ (inside their methods).
FACADES = ("gradflow.report", "gradflow.training.result", "gradflow.diff")


def module_files() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, whether it is a package's __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = module_files()


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (imported for typing only, never at run time)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(n) for n in ast.walk(node))
    return inside


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` reads from."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def imports_of(module: str) -> list[tuple[str, str, bool]]:
    """``(imported module, imported name or "", at module level)`` for each run-time import of ``module``."""
    path, is_package = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_nodes(tree)
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:
                    found.append((submodule, "", id(node) in top))
                else:
                    found.append((base, alias.name, id(node) in top))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "", id(node) in top) for alias in node.names)
    return [(m, name, at_top) for m, name, at_top in found if m in MODULES and m != module]


def import_graph() -> dict[str, set[str]]:
    """module -> the gradflow modules it imports at run time, the facades' lazy edges into render/ left out."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for target, _, at_top in imports_of(module):
            if module in FACADES and not at_top and target.startswith("gradflow.render"):
                continue
            graph[module].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or None.

    >>> find_cycle({"a": {"b"}, "b": {"a"}})
    ['a', 'b', 'a']
    >>> find_cycle({"a": {"b"}, "b": set()}) is None
    True
    """
    state: dict[str, int] = {}  # 1: on the DFS stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_modules_are_found():
    assert {"gradflow.cli", "gradflow.diff", "gradflow.training", "gradflow.training.run"} <= set(MODULES)


def test_find_cycle_sees_a_cycle_through_three_modules():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_private_name_is_imported_across_modules():
    private = [f"{module} imports {name} from {target}"
               for module in MODULES
               for target, name, _ in imports_of(module)
               if name.startswith("_") and not name.startswith("__")]
    assert not private, "; ".join(private)


def test_the_training_package_keeps_one_job_a_module():
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines())
             for path in (PACKAGE / "training").glob("*.py")}
    assert max(sizes.values()) <= 500, sizes


def test_diff_and_baseline_do_not_import_the_cli():
    for module in ("gradflow.diff", "gradflow.baseline"):
        assert "gradflow.cli" not in {t for t, _, _ in imports_of(module)}
