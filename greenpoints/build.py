"""Compile the contracts offline with py-solc-x through the solcjs shim and write artifacts.

Each artifact holds the ABI, creation and runtime bytecode, the immutable references (to compare
runtime code on chain) and the self-contained standard-JSON input that an auditor submits to a
block explorer. The indexer and the API read these files; they never need brownie or a compiler.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

from greenpoints.compiler import (
    ALL_CONTRACTS,
    ARTIFACTS_DIR,
    NODE_MODULES,
    ROOT,
    SOLC_SHIM,
    SOLC_VERSION,
    compiler_settings,
)
from greenpoints.errors import BuildError

_OUTPUTS = [
    "abi",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.deployedBytecode.immutableReferences",
    "metadata",
]
_FINGERPRINT = ARTIFACTS_DIR / ".fingerprint"


def read_source(unit: str) -> str:
    """Contents of a source unit: the repository first, then npm packages (no remapping)."""
    for root in (ROOT, NODE_MODULES):
        path = root / unit
        if path.is_file():
            return path.read_text()
    raise BuildError(f"source {unit} not found; run `npm ci` to install the Solidity packages")


def standard_input(units: list[str], outputs: list[str] | None = None) -> dict[str, Any]:
    """A self-contained standard-JSON input holding every unit's content and the pinned settings."""
    settings = compiler_settings()
    settings["outputSelection"] = {"*": {"*": outputs or _OUTPUTS}}
    return {
        "language": "Solidity",
        "sources": {unit: {"content": read_source(unit)} for unit in sorted(units)},
        "settings": settings,
    }


def compile_standard(input_json: dict[str, Any]) -> dict[str, Any]:
    """Run the pinned compiler on a standard-JSON input; raise BuildError on any compile error."""
    if not NODE_MODULES.joinpath("solc").is_dir():
        raise BuildError("the solc npm package is missing; run `npm ci` first")
    try:
        output: dict[str, Any] = solcx.compile_standard(input_json, base_path=str(ROOT), solc_binary=str(SOLC_SHIM))
    except SolcError as exc:
        raise BuildError(f"compilation failed: {exc}") from exc
    return output


def _fingerprint() -> str:
    digest = hashlib.sha256(json.dumps(compiler_settings(), sort_keys=True).encode())
    digest.update(SOLC_VERSION.encode())
    for path in sorted((ROOT / "contracts").rglob("*.sol")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build(force: bool = False) -> list[Path]:
    """Compile every contract and write `artifacts/<Name>.json`; skip when sources are unchanged."""
    fingerprint = _fingerprint()
    written = [ARTIFACTS_DIR / f"{name}.json" for name in ALL_CONTRACTS]
    unchanged = _FINGERPRINT.is_file() and _FINGERPRINT.read_text() == fingerprint
    if not force and unchanged and all(path.is_file() for path in written):
        return written
    output = compile_standard(standard_input(list(set(ALL_CONTRACTS.values()))))
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    for name, unit in ALL_CONTRACTS.items():
        compiled = output["contracts"][unit][name]
        metadata = json.loads(compiled["metadata"])
        # The contract's own dependency closure: exactly what its metadata hash commits to.
        bundle = standard_input(list(metadata["sources"]), outputs=["*"])
        artifact = {
            "contractName": name,
            "sourceName": unit,
            "compilerVersion": metadata["compiler"]["version"],
            "abi": compiled["abi"],
            "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
            "immutableReferences": compiled["evm"]["deployedBytecode"].get("immutableReferences", {}),
            "standardJsonInput": bundle,
        }
        (ARTIFACTS_DIR / f"{name}.json").write_text(json.dumps(artifact, indent=1, sort_keys=True))
    _FINGERPRINT.write_text(fingerprint)
    return written
