"""What a scenario hands back: its report text, its runs, and the panels to plot."""

from __future__ import annotations

from dataclasses import dataclass, field

from greenpoints.rules import DAY
from greenpoints.units import POINT_DECIMALS, PRICE_DECIMALS
from model.params import ASSET_DECIMALS
from model.trace import Trace


@dataclass(frozen=True)
class Line:
    """One plotted line: integer points and the divisors that turn them into figures."""

    label: str
    xs: list[int]
    ys: list[int]
    x_divisor: int = 1
    y_divisor: int = 1


@dataclass(frozen=True)
class Panel:
    title: str
    xlabel: str
    ylabel: str
    lines: list[Line]
    vlines: list[tuple[str, int, int]] = field(default_factory=list)  # (label, x, x divisor)
    hline_at_zero: bool = False


@dataclass
class ScenarioResult:
    name: str
    title: str
    params: list[str]
    report: list[str]
    traces: list[Trace]
    panels: list[Panel]


def standard_panels(traces: list[Trace], x_label: str = "step") -> list[Panel]:
    """Reserve and supply, price, and points minted per merchant, for every run; along the steps,
    or along time when `x_label` is "day"."""
    reserve_supply, prices, minted = [], [], []
    asset, points, price = 10**ASSET_DECIMALS, 10**POINT_DECIMALS, 10**PRICE_DECIMALS
    x_divisor = DAY if x_label == "day" else 1
    for t in traces:
        xs = [r.time if x_label == "day" else r.step for r in t.rows]
        reserve_supply.append(Line(f"reserve ({t.name})", xs, [r.reserve for r in t.rows], x_divisor, asset))
        reserve_supply.append(Line(f"points ({t.name})", xs, [r.supply for r in t.rows], x_divisor, points))
        prices.append(Line(t.name, xs, [r.price for r in t.rows], x_divisor, price))
        for i, label in enumerate(t.merchants.values()):
            minted.append(Line(f"{label} ({t.name})", xs, [r.minted[i] for r in t.rows], x_divisor, points))
    return [
        Panel("Reserve and points supply", x_label, "units / points", reserve_supply),
        Panel("Price (reserve ÷ points)", x_label, "price", prices),
        Panel("Points minted per merchant (cumulative)", x_label, "points", minted),
    ]
