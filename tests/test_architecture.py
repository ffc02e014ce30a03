"""The integration's import graph, read from the source: no circle, and no Home Assistant below it.

Every import counts, also those only for type checking: a circle there is still two parts that
each know the other's insides.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Final

PACKAGE: Final = Path(__file__).parents[1] / "custom_components" / "grid_ems"
ROOT: Final = "custom_components.grid_ems"
# The parts below Home Assistant: protocols and models, publishable as libraries.
WITHOUT_HOME_ASSISTANT: Final = (
    "iec104",
    "p1",
    "modbus",
    "netflex",
    "control",
    "planner",
    "commissioning",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((ROOT, *parts))


def _imports(path: Path, module: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """What ``path`` imports: each module name (relative imports resolved) with the names taken."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield base, tuple(alias.name for alias in node.names)


def _imported_modules(path: Path, module: str, modules: Collection[str]) -> set[str]:
    """The modules among ``modules`` that ``path`` depends on.

    ``from package import module`` depends on that module only; any other name taken from a
    module depends on the module.
    """
    found: set[str] = set()
    for base, names in _imports(path, module):
        submodules = {f"{base}.{name}" for name in names} & set(modules)
        found |= submodules
        if len(submodules) < len(names) or not names:
            found.add(base)
    return found


def import_graph() -> dict[str, set[str]]:
    """Each module of the integration and the modules of the integration it imports."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        graph[module] = {
            name for name in _imported_modules(path, module, modules) if name in modules
        } - {module}
    return graph


def _package_of(module: str) -> str:
    """``custom_components.grid_ems.p1.reader`` -> ``p1``; top-level modules are their own part."""
    return module.removeprefix(f"{ROOT}.").split(".")[0] if module != ROOT else ""


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports, or None (depth-first search over the graph)."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in visiting:
            return [*visiting[visiting.index(module) :], module]
        if module in done:
            return None
        visiting.append(module)
        for imported in sorted(graph[module]):
            if (circle := visit(imported)) is not None:
                return circle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if (circle := visit(module)) is not None:
            return circle
    return None


def test_no_import_circle() -> None:
    """No module of the integration imports, through others, a module that imports it."""
    assert find_circle(import_graph()) is None


def test_no_circle_between_parts() -> None:
    """Parts (the packages and top-level modules) depend on each other in one direction only."""
    parts: dict[str, set[str]] = {}
    for module, imported in import_graph().items():
        part = _package_of(module)
        parts.setdefault(part, set()).update(
            _package_of(name) for name in imported if _package_of(name) != part
        )
    assert find_circle(parts) is None


def test_protocol_and_model_parts_do_not_import_home_assistant() -> None:
    """iec104/, p1/, modbus/, netflex/, control/ and planner/ are plain Python."""
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for part in WITHOUT_HOME_ASSISTANT
        for path in (PACKAGE / part).rglob("*.py")
        for name, _ in _imports(path, _module_name(path))
        if name == "homeassistant" or name.startswith("homeassistant.")
    ]
    assert offenders == []


def test_the_checks_find_what_they_look_for() -> None:
    """A circle and a Home Assistant import are found when they are there."""
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None
    reader = PACKAGE / "p1" / "reader.py"
    assert f"{ROOT}.p1.crc" in _imported_modules(reader, _module_name(reader), [f"{ROOT}.p1.crc"])
