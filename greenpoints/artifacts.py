"""Read compiled contract artifacts written by `greenpoints build`."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from greenpoints.compiler import ARTIFACTS_DIR
from greenpoints.errors import BuildError


@cache
def load_artifact(name: str) -> dict[str, Any]:
    """The artifact of contract `name` (ABI, bytecode, standard-JSON input)."""
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        raise BuildError(f"no compiled artifact for {name}; run `greenpoints build`")
    artifact: dict[str, Any] = json.loads(path.read_text())
    return artifact


def abi(name: str) -> list[dict[str, Any]]:
    """The ABI of contract `name`."""
    result: list[dict[str, Any]] = load_artifact(name)["abi"]
    return result
