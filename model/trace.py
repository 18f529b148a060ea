"""A run's history: the pool's figures after each step, for the report, the CSV and the plots."""

from __future__ import annotations

from dataclasses import dataclass, field

from model.pool import Pool


@dataclass(frozen=True, slots=True)
class Row:
    """The pool after one step (base units: asset, points, 18-decimal price)."""

    step: int
    time: int  # the pool's clock (seconds)
    day: int
    action: str
    reserve: int
    supply: int
    price: int
    tax_accrued: int
    minted: tuple[int, ...]  # points each merchant of the run minted so far, in `Trace.merchants` order


@dataclass
class Trace:
    """One simulated history of a scenario, named; `merchants` maps account → label."""

    name: str
    merchants: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    _minted: dict[str, int] = field(default_factory=dict)

    def minted(self, merchant: str, points: int) -> None:
        self._minted[merchant] = self._minted.get(merchant, 0) + points

    def record(self, pool: Pool, step: int, action: str) -> Row:
        row = Row(
            step=step,
            time=pool.now,
            day=pool.today,
            action=action,
            reserve=pool.reserve,
            supply=pool.supply,
            price=pool.price(),
            tax_accrued=pool.tax_accrued,
            minted=tuple(self._minted.get(m, 0) for m in self.merchants),
        )
        self.rows.append(row)
        return row

    def at_step(self, step: int) -> Row:
        """The last row recorded for `step`."""
        return next(row for row in reversed(self.rows) if row.step == step)
