"""Scenario parameters from `--params k=v`: typed, bounded by the contract's hard bounds, refused
with one line when a name is unknown or a value is out of bounds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from greenpoints.errors import GreenPointsError
from greenpoints.pool_constants import pool_bounds
from greenpoints.units import POINT_DECIMALS, PRICE_DECIMALS, format_units, parse_units

ASSET_DECIMALS = 6  # the scenarios' reserve asset: 6 decimals, like USDC


class ParameterError(GreenPointsError):
    """A scenario parameter is unknown, malformed or outside its bounds."""


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: its kind says how `v` is read (`bps`, `count`, `amount` in the asset,
    `points`, `price`), `low`/`high` bound the parsed integer."""

    name: str
    kind: str
    default: int
    low: int
    high: int
    help: str

    def parse(self, text: str) -> int:
        try:
            value = int(text) if self.kind in ("bps", "count") else parse_units(text, self._decimals())
        except ValueError as exc:
            raise ParameterError(f"parameter {self.name}: {exc}") from None
        if not self.low <= value <= self.high:
            raise ParameterError(
                f"parameter {self.name}={text} is outside its bounds [{self.show(self.low)}, {self.show(self.high)}]"
            )
        return value

    def show(self, value: int) -> str:
        return str(value) if self.kind in ("bps", "count") else format_units(value, self._decimals())

    def _decimals(self) -> int:
        return {"amount": ASSET_DECIMALS, "points": POINT_DECIMALS, "price": PRICE_DECIMALS}[self.kind]


def pool_params() -> list[Param]:
    """The pool's parameters every scenario takes, bounded as the contract bounds them."""
    b = pool_bounds()
    return [
        Param(
            "pool_share_bps",
            "bps",
            b.default_pool_share_bps,
            b.min_pool_share_bps,
            b.max_pool_share_bps,
            "share of each skim that goes into the pool",
        ),
        Param("fee_bps", "bps", b.default_fee_bps, 0, b.max_fee_bps, "redemption fee"),
        Param("tax_bps", "bps", b.default_tax_bps, 0, b.max_fee_bps, "tax part of the fee (at most the fee)"),
    ]


def rate_param(name: str, default: int, help: str) -> Param:
    b = pool_bounds()
    return Param(name, "bps", default, b.min_rate_bps, b.max_rate_bps, help)


def cap_param(name: str, default: int, help: str) -> Param:
    b = pool_bounds()
    return Param(name, "points", default, b.min_daily_cap, b.max_daily_cap, help)


def parse_params(assignments: Iterable[str], spec: list[Param]) -> dict[str, int]:
    """`k=v` strings over the defaults in `spec`; the tax may not exceed the fee (as `setFees`)."""
    by_name = {p.name: p for p in spec}
    values = {p.name: p.default for p in spec}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep:
            raise ParameterError(f"parameter {assignment!r} is not of the form name=value")
        param = by_name.get(name.strip())
        if param is None:
            raise ParameterError(f"unknown parameter {name.strip()!r} (known: {', '.join(sorted(by_name))})")
        values[param.name] = param.parse(text.strip())
    if "tax_bps" in values and values["tax_bps"] > values["fee_bps"]:
        raise ParameterError(f"parameter tax_bps={values['tax_bps']} is above fee_bps={values['fee_bps']}")
    return values


def describe_params(values: Mapping[str, int], spec: list[Param]) -> list[str]:
    return [f"{p.name} = {p.show(values[p.name])}" for p in spec]
