"""The house's floors hold: `main` picks a command, the commands (`ampaction/commands/`)
tell the stories, the frontends (`ampaction/frontends/`) start and follow a frontend, and
every other module is the mechanics they use. A module imports only its own floor or
the ones below, and no import goes round in a circle, so each floor can be read (and
replaced in a test) without the ones above it."""

from __future__ import annotations

import ast

from support.action import ROOT

PACKAGE = ROOT / "ampaction"
FLOORS = {"ampaction.__main__": 4, "ampaction.main": 3}


def floor(module: str) -> int:
    if module.startswith("ampaction.commands"):
        return 2
    if module.startswith("ampaction.frontends"):
        return 1
    return FLOORS.get(module, 0)


def module_name(path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def imports() -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports."""
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ampaction"):
                for alias in node.names:  # `from ampaction import x`: x may be a module
                    full = f"{node.module}.{alias.name}"
                    found.add(full if full in known else str(node.module))
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("ampaction")}
        graph[module_name(path)] = found - {module_name(path)}
    return graph


def test_the_floors_are_there():
    graph = imports()
    assert {"ampaction.commands.deploy", "ampaction.frontends.webhook"} <= set(graph)
    assert "ampaction.commands.deploy" in graph["ampaction.main"]


def test_nothing_imports_a_floor_above_its_own():
    upward = {
        (module, dep)
        for module, deps in imports().items()
        for dep in deps
        if floor(dep) > floor(module)
    }
    assert upward == set()


def test_no_import_goes_round_in_a_circle():
    graph = imports()
    circles = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == "open":
                circles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []
