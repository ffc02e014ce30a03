"""Layering of the iec104 package, read from its source: what each module may import."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "custom_components" / "grid_ems" / "iec104"
SANS_IO = ("apci", "asdu", "connection", "station", "responder")
"""Modules that do no I/O and no logging and read no clock."""
IO_MODULES = frozenset({"asyncio", "logging", "socket", "ssl", "time", "selectors", "threading"})


def imports(module: str) -> tuple[set[str], set[str]]:
    """(absolute top-level modules, sibling modules) that `module` imports."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    absolute: set[str] = set()
    siblings: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            absolute.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                absolute.add((node.module or "").split(".")[0])
            elif node.level == 1 and node.module is not None:
                siblings.add(node.module.split(".")[0])
            else:
                raise AssertionError(f"{module} imports from outside the package: {ast.dump(node)}")
    return absolute, siblings


def modules() -> list[str]:
    return sorted(path.stem for path in PACKAGE.glob("*.py"))


@pytest.mark.parametrize("module", modules())
def test_no_home_assistant(module: str) -> None:
    absolute, _ = imports(module)
    assert "homeassistant" not in absolute


@pytest.mark.parametrize("module", SANS_IO)
def test_sans_io_modules_do_no_io_and_no_logging(module: str) -> None:
    absolute, _ = imports(module)
    assert absolute & IO_MODULES == set()


def test_no_import_cycle() -> None:
    graph = {module: imports(module)[1] for module in modules()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as err:
        pytest.fail(f"import cycle: {err.args[1]}")
    assert order.index("responder") < order.index("server")
