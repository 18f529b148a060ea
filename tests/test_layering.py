"""The layering of the code: the core (`greenpoints/`) imports no part, a part imports no other
part it does not build on, and nothing imports the command line (`cli/`) but itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("greenpoints", "indexer", "api", "merchant", "model", "cli")
# package -> the first-party packages it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "greenpoints": set(),
    "indexer": {"greenpoints"},
    "api": {"greenpoints", "indexer"},
    "merchant": {"greenpoints"},
    "model": {"greenpoints"},
    "cli": {"greenpoints", "indexer", "api", "merchant", "model"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", [p for p in PACKAGES if (ROOT / p).is_dir()])
def test_no_import_runs_up_the_layers(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in sorted((ROOT / package).rglob("*.py"))
        if (bad := _imports(path) - ALLOWED[package] - {package})
    }
    assert wrong == {}
