"""The package's shape: imports only point down the layers, no import circles, no typer below the CLI.

Every import counts, those inside functions included (they are how circles hide); only
imports under `if TYPE_CHECKING:` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pearl"

# Bottom to top. A module may import from its own layer and the layers below it, never above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "pearl.errors",
            "pearl.models",
            "pearl.protocols",
            "pearl.questions",
            "pearl.config",
            "pearl.documents",
            "pearl.tokens",
            "pearl.prompts",
            "pearl.trace",
            "pearl._paths",
            "pearl._files",
            "pearl._replies",
            "pearl._text",
            "pearl._workers",
            "pearl._version",
        ),
    ),
    ("llm", ("pearl.llm",)),
    ("context", ("pearl.context",)),
    ("actions", ("pearl.actions",)),
    ("planning", ("pearl.planning",)),
    ("execution", ("pearl.execution",)),
    ("methods", ("pearl.methods",)),
    ("front door", ("pearl._pearl",)),
    ("pages", ("pearl.html",)),
    ("eval", ("pearl.eval",)),
    ("training", ("pearl.training",)),
    ("cli", ("pearl.cli", "pearl.__main__")),
    ("public API", ("pearl",)),
]


def module_name(path: Path) -> str:
    parts = ["pearl", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None  # (prefix length, layer): the longest matching prefix wins
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rank)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")
    return best[1]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str) -> set[str]:
    """pearl modules `module` imports, anywhere in its body; `from a import b` names module a.b if it is one."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skipped = {
        id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node) for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name == "pearl" or a.name.startswith("pearl."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "pearl" and not node.module.startswith("pearl."):
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for module in MODULES:
        graph.add_node(module)
        for target in imports_of(module):
            graph.add_edge(module, target)
    return graph


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_imports_only_point_down_the_layers() -> None:
    upward = [
        f"{source} ({LAYERS[layer_of(source)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for source, target in import_graph().edges
        if layer_of(target) > layer_of(source)
    ]
    assert not upward, "\n".join(upward)


def test_no_module_inside_the_package_imports_the_public_api() -> None:
    # `pearl/__init__.py` re-exports everything; importing it from inside would make every layer depend on every other.
    offenders = [m for m in MODULES if m != "pearl" and "pearl" in imports_of(m)]
    assert not offenders


def test_there_is_no_import_circle() -> None:
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, "\n".join(" -> ".join([*c, c[0]]) for c in cycles[:10])


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("pearl.cli")))
def test_only_the_cli_imports_typer(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {n for n in names if n == "typer" or n.startswith("typer.")}, f"{module} imports typer"


def test_the_checker_sees_imports_inside_functions() -> None:
    # The circles this test exists for hid in function bodies; make sure those are read.
    source = "def f():\n    from pearl._pearl import Pearl\n"
    tree = ast.parse(source)
    assert any(isinstance(n, ast.ImportFrom) and n.module == "pearl._pearl" for n in ast.walk(tree))
    assert "pearl.context._models" in imports_of("pearl.context._compress")
