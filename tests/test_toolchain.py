"""The offline toolchain: the solc shim, the pinned settings everywhere, the build's skip logic."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from greenpoints.build import build
from greenpoints.compiler import (
    ALL_CONTRACTS,
    ARTIFACTS_DIR,
    EVM_VERSION,
    OPTIMIZER_RUNS,
    ROOT,
    SOLC_SHIM,
    SOLC_VERSION,
    compiler_settings,
)


def test_shim_reports_the_pinned_version() -> None:
    out = subprocess.run([str(SOLC_SHIM), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {SOLC_VERSION}+commit" in out


def test_shim_refuses_other_modes() -> None:
    result = subprocess.run([str(SOLC_SHIM), "--bin", "x.sol"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "only --version and --standard-json" in result.stderr


def test_brownie_config_matches_the_build_settings() -> None:
    config = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())
    solc = config["compiler"]["solc"]
    assert str(solc["version"]) == SOLC_VERSION
    assert solc["optimizer"] == {"enabled": True, "runs": OPTIMIZER_RUNS}
    assert solc["viaIR"] is compiler_settings()["viaIR"]
    assert config["compiler"]["evm_version"] == EVM_VERSION


def test_npm_pins_are_exact() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"]["solc"] == SOLC_VERSION
    assert all(version[0].isdigit() for version in package["dependencies"].values())


def test_build_writes_every_artifact_and_skips_when_unchanged() -> None:
    paths = build()
    assert {p.stem for p in paths} == set(ALL_CONTRACTS)
    mtimes = {p: p.stat().st_mtime_ns for p in paths}
    build()
    assert {p: p.stat().st_mtime_ns for p in paths} == mtimes
    artifact = json.loads((ARTIFACTS_DIR / "DividendPool.json").read_text())
    assert artifact["compilerVersion"].startswith(SOLC_VERSION)
    assert artifact["standardJsonInput"]["settings"]["evmVersion"] == EVM_VERSION
    assert "contracts/DividendPool.sol" in artifact["standardJsonInput"]["sources"]


def test_production_contracts_have_natspec_on_every_external_function() -> None:
    checked = 0
    for source in ("contracts/DividendPool.sol", "contracts/PointsToken.sol"):
        lines = Path(ROOT / source).read_text().splitlines()
        for i, line in enumerate(lines):
            if not line.strip().startswith("function "):
                continue
            header = " ".join(lines[i : i + 8]).split("{")[0]
            if " external" in header or " public" in header:
                checked += 1
                above = "\n".join(lines[max(0, i - 8) : i])
                assert "/// @" in above or "@inheritdoc" in above, f"{source}:{i + 1} lacks NatSpec"
    assert checked >= 25
