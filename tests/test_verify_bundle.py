"""SPEC §3.6: the deployed bytecode is reproducible from the verification bundle alone."""

from __future__ import annotations

import json
from pathlib import Path

import solcx
from eth_abi import decode
from web3 import Web3

from greenpoints.chain import contract
from greenpoints.compiler import PRODUCTION_CONTRACTS, SOLC_SHIM
from greenpoints.deployment import Deployment
from greenpoints.verify import write_bundle


def _mask_immutables(code: bytes, references: dict[str, list[dict[str, int]]]) -> bytes:
    """Zero the immutable slots, which the constructor fills in per deployment."""
    masked = bytearray(code)
    for spots in references.values():
        for spot in spots:
            masked[spot["start"] : spot["start"] + spot["length"]] = bytes(spot["length"])
    return bytes(masked)


def test_bundle_recompiles_to_the_code_on_chain(w3: Web3, deployed: dict[int, Deployment], tmp_path: Path) -> None:
    deployment = deployed[6]
    write_bundle(deployment, tmp_path)
    summary = json.loads((tmp_path / "bundle.json").read_text())
    assert set(summary["contracts"]) == set(PRODUCTION_CONTRACTS)
    for info in summary["contracts"].values():
        standard_input = json.loads((tmp_path / info["standardJsonInput"]).read_text())
        # Only what is in the bundle: no import callback can fill a gap.
        assert all("content" in source for source in standard_input["sources"].values())
        source, contract_name = info["contractName"].split(":")
        output = solcx.compile_standard(standard_input, solc_binary=str(SOLC_SHIM), base_path=str(tmp_path))
        compiled = output["contracts"][source][contract_name]["evm"]["deployedBytecode"]
        on_chain = bytes(w3.eth.get_code(Web3.to_checksum_address(info["address"])))
        recompiled = bytes.fromhex(compiled["object"])
        references = compiled.get("immutableReferences", {})
        assert len(on_chain) == len(recompiled)
        assert _mask_immutables(on_chain, references) == _mask_immutables(recompiled, references)
        assert on_chain != recompiled or not references  # immutables really were filled in


def test_constructor_arguments_match_the_deployment_transaction(
    w3: Web3, deployed: dict[int, Deployment], tmp_path: Path
) -> None:
    deployment = deployed[6]
    write_bundle(deployment, tmp_path)
    args_hex = (tmp_path / "DividendPool.constructor-args.txt").read_text().strip()
    tx = w3.eth.get_transaction(deployment.tx_hashes["DividendPool"])
    assert bytes(tx["input"]).hex().endswith(args_hex)
    token_args = bytes.fromhex((tmp_path / "PointsToken.constructor-args.txt").read_text().strip())
    # The token is created inside the pool's constructor: its arguments must be what it holds.
    token = contract(w3, "PointsToken", deployment.points_token)
    assert decode(["string", "string"], token_args) == (
        token.functions.name().call(),
        token.functions.symbol().call(),
    )
