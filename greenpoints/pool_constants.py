"""The pool's hard bounds and default parameters, read from the compiled contract's own source.

The numbers live once, in `contracts/DividendPool.sol`; this reads them from the source text
inside the compiled artifact (the standard-JSON input it was built from), so Python can check
parameters against the very bounds the deployed bytecode enforces, without retyping them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from greenpoints.artifacts import load_artifact
from greenpoints.errors import BuildError

# `uint16 public constant MAX_FEE_BPS = 2_000;` and `uint16 public feeBps = 1_000;`
_DECLARATION = re.compile(
    r"^\s*uint\d+\s+(?:public\s+|private\s+|internal\s+)?(?:constant\s+)?(\w+)\s*=\s*([^;]+);", re.M
)
_NUMBER = re.compile(r"(\d[\d_]*)(?:e(\d+))?")
_TYPE_MAX = re.compile(r"type\(uint(\d+)\)\.max")


def _evaluate(expression: str) -> int | None:
    """An integer constant expression of the forms the contract uses (`1e10 * 1e18`, `2_000`,
    `type(uint128).max`); None for anything else (hashes, calls)."""
    value = 1
    for factor in (part.strip() for part in expression.split("*")):
        if match := _TYPE_MAX.fullmatch(factor):
            value *= 2 ** int(match.group(1)) - 1
        elif match := _NUMBER.fullmatch(factor):
            value *= int(match.group(1).replace("_", "")) * 10 ** int(match.group(2) or 0)
        else:
            return None
    return value


@cache
def pool_source_constants() -> dict[str, int]:
    """Every integer constant and initialised integer state variable of `DividendPool`, by name."""
    artifact = load_artifact("DividendPool")
    source = artifact["standardJsonInput"]["sources"][artifact["sourceName"]]["content"]
    found = {}
    for name, expression in _DECLARATION.findall(source):
        value = _evaluate(expression)
        if value is not None:
            found[name] = value
    return found


@dataclass(frozen=True, slots=True)
class PoolBounds:
    """The contract's hard bounds (basis points; caps in points; sales in asset units) and the
    parameters a new pool starts with."""

    min_rate_bps: int
    max_rate_bps: int
    min_pool_share_bps: int
    max_pool_share_bps: int
    max_fee_bps: int
    min_daily_cap: int
    max_daily_cap: int
    max_sale_amount: int
    default_fee_bps: int
    default_tax_bps: int
    default_pool_share_bps: int


@cache
def pool_bounds() -> PoolBounds:
    """The bounds and defaults of the compiled `DividendPool`."""
    constants = pool_source_constants()
    names = {
        "min_rate_bps": "MIN_RATE_BPS",
        "max_rate_bps": "MAX_RATE_BPS",
        "min_pool_share_bps": "MIN_POOL_SHARE_BPS",
        "max_pool_share_bps": "MAX_POOL_SHARE_BPS",
        "max_fee_bps": "MAX_FEE_BPS",
        "min_daily_cap": "MIN_DAILY_CAP",
        "max_daily_cap": "MAX_DAILY_CAP",
        "max_sale_amount": "MAX_SALE_AMOUNT",
        "default_fee_bps": "feeBps",
        "default_tax_bps": "taxBps",
        "default_pool_share_bps": "poolShareBps",
    }
    missing = sorted(source for source in names.values() if source not in constants)
    if missing:
        raise BuildError(f"DividendPool's source declares no {', '.join(missing)}; rebuild with `greenpoints build`")
    return PoolBounds(**{field: constants[source] for field, source in names.items()})
