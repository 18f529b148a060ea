"""The pinned compiler and its settings: one place, shared by the build, brownie and verification."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = ROOT / "contracts"
NODE_MODULES = ROOT / "node_modules"
SOLC_SHIM = ROOT / "tools" / "solc-shim.js"
ARTIFACTS_DIR = ROOT / "artifacts"

SOLC_VERSION = "0.8.37"
EVM_VERSION = "cancun"
OPTIMIZER_RUNS = 100_000

# Contracts for production and the test-only assets, by source file.
PRODUCTION_CONTRACTS = {
    "DividendPool": "contracts/DividendPool.sol",
    "PointsToken": "contracts/PointsToken.sol",
    # OpenZeppelin's timelock, unchanged: it holds the pool's parameter admin role.
    "TimelockController": "@openzeppelin/contracts/governance/TimelockController.sol",
}
TEST_CONTRACTS = {
    "TestStablecoin": "contracts/test/TestStablecoin.sol",
    "FeeOnTransferToken": "contracts/test/FeeOnTransferToken.sol",
    "ReentrantToken": "contracts/test/ReentrantToken.sol",
    "TestSmartWallet": "contracts/test/TestSmartWallet.sol",
}
ALL_CONTRACTS = {**PRODUCTION_CONTRACTS, **TEST_CONTRACTS}


def compiler_settings() -> dict:
    """Standard-JSON `settings` (without outputSelection) that every build must use."""
    return {
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "evmVersion": EVM_VERSION,
        "viaIR": True,
        "metadata": {"bytecodeHash": "ipfs"},
    }
