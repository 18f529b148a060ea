"""Verification bundles: what an auditor submits to Etherscan or Sourcify for each deployed contract.

Per contract: the self-contained solc standard-JSON input (exactly what produced the bytecode),
the ABI-encoded constructor arguments, and a summary with the address, compiler and contract name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_abi import encode

from greenpoints.artifacts import load_artifact
from greenpoints.compiler import PRODUCTION_CONTRACTS
from greenpoints.deployment import Deployment


def constructor_types(name: str) -> list[str]:
    """The constructor's argument types of contract `name`, from its ABI."""
    for entry in load_artifact(name)["abi"]:
        if entry["type"] == "constructor":
            return [arg["type"] for arg in entry["inputs"]]
    return []


def encoded_constructor_args(name: str, args: list[Any]) -> str:
    """ABI-encoded constructor arguments as hex without 0x (the form block explorers ask for)."""
    return encode(constructor_types(name), args).hex()


def write_bundle(deployment: Deployment, out_dir: Path) -> list[Path]:
    """Write `<Name>.standard-input.json`, `<Name>.constructor-args.txt` and `bundle.json` to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    addresses = {
        "DividendPool": deployment.pool,
        "PointsToken": deployment.points_token,
        "TimelockController": deployment.timelock,
    }
    summary: dict[str, Any] = {"chainId": deployment.chain_id, "contracts": {}}
    written: list[Path] = []
    for name, source in PRODUCTION_CONTRACTS.items():
        artifact = load_artifact(name)
        input_path = out_dir / f"{name}.standard-input.json"
        input_path.write_text(json.dumps(artifact["standardJsonInput"], indent=1, sort_keys=True))
        args_hex = encoded_constructor_args(name, deployment.constructor_args[name])
        args_path = out_dir / f"{name}.constructor-args.txt"
        args_path.write_text(args_hex + "\n")
        summary["contracts"][name] = {
            "address": addresses[name],
            "contractName": f"{source}:{name}",
            "compilerVersion": "v" + artifact["compilerVersion"],
            "standardJsonInput": input_path.name,
            "constructorArguments": args_hex,
            "createdBy": "DividendPool constructor" if name == "PointsToken" else "deployer",
        }
        written += [input_path, args_path]
    summary_path = out_dir / "bundle.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    return [*written, summary_path]
