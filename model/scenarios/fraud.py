"""SPEC §5: a merchant that reports fake sales.

A fake sale costs the merchant only the pool's part of the skim (`poolIn`); an accomplice wallet
receives the points and redeems them at once. Without the mint bound the points are the rest of
the skim at face value, and that pays once `price × (1 − fee) > poolShare ÷ (1 − poolShare)`,
i.e. above `poolShare ÷ ((1 − poolShare) × (1 − fee))` (`greenpoints.rules.fraud_threshold`,
0.476 at the defaults): what the accomplice takes out, the honest holders lose. With the mint
bound the points' cash-out value never exceeds `poolIn`, so a fake sale never gains.

The scenario sweeps the price, finds the break-even by search, and runs a few days of attack at
one price, with the daily caps stopping the fraudster each day, beside the same days without fraud.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from greenpoints.rules import BPS, DAY, POINT, CheckoutQuote, Refused, ceil_div, fraud_threshold, quote_checkout
from greenpoints.units import PRICE_DECIMALS
from model.figures import rounded
from model.params import ASSET_DECIMALS, Param, ParameterError, cap_param, describe_params, pool_params, rate_param
from model.pool import Merchant, Pool
from model.result import Line, Panel, ScenarioResult, standard_panels
from model.trace import Trace

UNIT = 10**ASSET_DECIMALS
PRICE_ONE = 10**PRICE_DECIMALS
HONEST, FRAUDSTER, ACCOMPLICE, HOLDERS = "honest shop", "fraudster", "accomplice", "holders"
CAP_ERRORS = ("PoolDailyCapExceeded", "PoolGlobalDailyCapExceeded")
SHOWN_PRICES = ("0.45", "0.476", "0.5", "0.75", "1", "1.25", "1.5", "2")


class WithoutMintBound(Pool):
    """The pool as it was before the mint bound (for comparison only): points at face value."""

    def _quote_checkout(self, m: Merchant, sale_amount: int) -> CheckoutQuote:
        self._check_bounds(sale_amount, 0, self.bounds.max_sale_amount)
        quote = quote_checkout(sale_amount, m.rate_bps, self.pool_share_bps, self.fee_bps, 0, 0, self.asset_decimals)
        return quote


def params() -> list[Param]:
    return [
        *pool_params(),
        rate_param("rate_bps", 1_000, "the fraudster's skim rate"),
        Param("sale", "amount", 10_000 * UNIT, UNIT, 10**9 * UNIT, "each fake sale"),
        Param("holder_points", "points", 100_000 * POINT, POINT, 10**12 * POINT, "points the honest holders hold"),
        Param("price", "price", PRICE_ONE, 0, 1_000 * PRICE_ONE, "the price when the attack starts"),
        cap_param("daily_cap", 10_000 * POINT, "the fraudster's daily mint cap"),
        cap_param("global_cap", 1_000_000 * POINT, "the daily mint cap over all merchants"),
        Param("days", "count", 5, 1, 365, "days of attack"),
        Param("honest_orders", "count", 20, 0, 10_000, "honest orders of 3,800 at 10 % per day"),
    ]


def _pool(values: dict[str, int], price: int, bound: bool) -> Pool:
    """A pool where the honest holders hold `holder_points` at `price`: one honest checkout mints
    them, a top-up lifts the reserve to the price."""
    kind = Pool if bound else WithoutMintBound
    pool = kind(
        ASSET_DECIMALS,
        fee_bps=values["fee_bps"],
        tax_bps=values["tax_bps"],
        pool_share_bps=values["pool_share_bps"],
    )
    top = pool.bounds.max_daily_cap
    pool.set_merchant(HONEST, 1_000, top, True)
    pool.set_merchant(FRAUDSTER, values["rate_bps"], values["daily_cap"], True)
    face_per_sale_unit = Fraction(1_000 * (BPS - values["pool_share_bps"]), BPS * BPS)  # points per sale unit
    sale = int(Fraction(values["holder_points"], POINT // UNIT) / face_per_sale_unit) + UNIT
    pool.checkout(HONEST, HOLDERS, sale, b"history".rjust(32, b"\0"))  # on day 0: the attack's caps count from day 1
    pool.set_global_daily_cap(values["global_cap"])
    wanted = price * pool.supply // (PRICE_ONE * (POINT // UNIT))
    if price < pool.price():
        raise ParameterError(
            f"parameter price={rounded(price, PRICE_DECIMALS, 4)} is below the "
            f"{rounded(pool.price(), PRICE_DECIMALS, 4)} that checkouts alone give"
        )
    if wanted > pool.reserve:
        pool.fund("sponsor", wanted - pool.reserve, pool.supply)
    pool.now = DAY  # the attack starts on a fresh day
    return pool


@dataclass(frozen=True)
class FakeSale:
    pool_in: int
    points: int
    payout: int
    tax: int  # leaves the pool too, to the tax collector

    @property
    def gain(self) -> int:
        return self.payout - self.pool_in


def fake_sale(pool: Pool, sale: int, order: int) -> FakeSale:
    """One fake sale to the accomplice, who redeems the points at once."""
    quote = pool.checkout(FRAUDSTER, ACCOMPLICE, sale, order.to_bytes(32, "big"))
    redeemed = pool.redeem(ACCOMPLICE, quote.points)
    return FakeSale(quote.pool_in, quote.points, redeemed.payout, redeemed.tax)


def gain_at(values: dict[str, int], price: int, bound: bool) -> FakeSale:
    """One fake sale at `price` (the caps lifted: they bound how many, not what each gains)."""
    pool = _pool(values, price, bound)
    pool.set_merchant(FRAUDSTER, values["rate_bps"], pool.bounds.max_daily_cap, True)
    pool.set_global_daily_cap(pool.bounds.max_daily_cap)
    return fake_sale(pool, values["sale"], 1)


def break_even(values: dict[str, int], bound: bool) -> int | None:
    """The smallest price (18 decimals) at which one fake sale gains, by bisection; None below 100."""
    low = _equilibrium(values)
    high = 100 * PRICE_ONE
    if gain_at(values, high, bound).gain <= 0:
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if gain_at(values, middle, bound).gain > 0:
            high = middle
        else:
            low = middle
    return high


def _equilibrium(values: dict[str, int]) -> int:
    """The price right after the honest history: what checkouts alone give (~0.4286)."""
    pool = Pool(ASSET_DECIMALS, pool_share_bps=values["pool_share_bps"], fee_bps=values["fee_bps"])
    pool.set_merchant(HONEST, 1_000, pool.bounds.max_daily_cap, True)
    face = Fraction(1_000 * (BPS - values["pool_share_bps"]), BPS * BPS)
    sale = int(Fraction(values["holder_points"], POINT // UNIT) / face) + UNIT
    pool.checkout(HONEST, HOLDERS, sale, bytes(32))
    return pool.price()


def cash_out_value(pool: Pool, points: int) -> int:
    """What `points` would pay if redeemed now, fee included, as one holder among others."""
    gross = points * pool.reserve // pool.supply if pool.supply else 0
    return gross - ceil_div(gross * pool.fee_bps, BPS)


def attack(values: dict[str, int], bound: bool, name: str, *, fraud: bool = True) -> tuple[Trace, list[dict[str, int]]]:
    """`days` days at `price`, with or without the mint bound: honest orders, then (with `fraud`)
    fake sales until a daily cap refuses the next one. Returns the trace and per-day figures."""
    pool = _pool(values, values["price"], bound)
    trace = Trace(name, {HONEST: "honest shop", FRAUDSTER: "fraudster"})
    step, order, days = 0, 0, []
    trace.record(pool, step, "start")
    for day in range(values["days"]):
        pool.now = (day + 1) * DAY + 60
        figures = {"sales": 0, "points": 0, "gain": 0, "tax": 0, "honest_refused": 0}
        for i in range(values["honest_orders"]):
            order += 1
            try:
                quote = pool.checkout(HONEST, f"customer {i % 10}", 3_800 * UNIT, order.to_bytes(32, "big"))
            except Refused as refused:
                if refused.error not in CAP_ERRORS:
                    raise
                figures["honest_refused"] += 1  # a tight global cap stops honest merchants too
                continue
            trace.minted(HONEST, quote.points)
            step += 1
            trace.record(pool, step, "honest order")
            pool.now += 60
        while fraud:
            order += 1
            try:
                sale = fake_sale(pool, values["sale"], order)
            except Refused as refused:
                if refused.error not in CAP_ERRORS:
                    raise
                break
            trace.minted(FRAUDSTER, sale.points)
            figures["sales"] += 1
            figures["points"] += sale.points
            figures["gain"] += sale.gain
            figures["tax"] += sale.tax
            step += 1
            trace.record(pool, step, "fake sale")
            pool.now += 1
        honest = pool.supply - pool.balance_of(ACCOMPLICE)
        figures["honest_value"] = cash_out_value(pool, honest)
        figures["price"] = pool.price()
        days.append(figures)
    return trace, days


def run(values: dict[str, int], seed: int) -> ScenarioResult:
    del seed  # the scenario is deterministic
    numerator, denominator = fraud_threshold(values["pool_share_bps"], values["fee_bps"])
    threshold = Fraction(numerator, denominator)
    # The sweep: from the price checkouts alone give up to twice the attack's price (at least 2).
    start = _equilibrium(values)
    end = max(2 * PRICE_ONE, 2 * values["price"])
    grid = list(range(start, end + 1, max(1, (end - start) // 150)))
    unbounded = [gain_at(values, p, False).gain for p in grid]
    bounded = [gain_at(values, p, True).gain for p in grid]
    found = break_even(values, False)
    found_bound = break_even(values, True)
    runs = [
        attack(values, True, "no fraud", fraud=False),
        attack(values, False, "without the mint bound"),
        attack(values, True, "with the mint bound"),
    ]
    report = _report(values, threshold, found, found_bound, grid, bounded, runs)
    traces = [t for t, _ in runs]
    gain_panel = Panel(
        "Gain of one fake sale, by price",
        "price",
        "gain (asset units)",
        [
            Line("without the mint bound", grid, unbounded, PRICE_ONE, UNIT),
            Line("with the mint bound", grid, bounded, PRICE_ONE, UNIT),
        ],
        vlines=[(f"threshold {rounded(threshold, 0, 3)}", int(threshold * PRICE_ONE), PRICE_ONE)],
        hline_at_zero=True,
    )
    days = list(range(1, values["days"] + 1))
    value_panel = Panel(
        "Honest holders' cash-out value at the end of each day",
        "day",
        "asset units",
        [Line(t.name, days, [d["honest_value"] for d in figures], 1, UNIT) for t, figures in runs],
    )
    return ScenarioResult(
        name="fraud",
        title="Fake sales (SPEC §5): when they pay, and what the mint bound and the caps leave of them",
        params=describe_params(values, params()),
        report=report,
        traces=traces,
        panels=[gain_panel, value_panel, *standard_panels(traces, "day")],
    )


def _report(
    values: dict[str, int],
    threshold: Fraction,
    found: int | None,
    found_bound: int | None,
    grid: list[int],
    bounded: list[int],
    runs: list[tuple[Trace, list[dict[str, int]]]],
) -> list[str]:
    share, fee = values["pool_share_bps"], values["fee_bps"]
    pool = _pool(values, values["price"], True)
    supply = pool.supply
    q = quote_checkout(values["sale"], values["rate_bps"], share, fee, 0, 0, ASSET_DECIMALS).pool_in
    dilution = Fraction(fee * q, (BPS - fee)) / Fraction(supply, POINT // UNIT)
    lines = [
        f"Threshold: pool share ÷ ((1 − pool share) × (1 − fee)) = {share}/{BPS - share} ÷ {(BPS - fee)}/{BPS}"
        f" = {rounded(threshold, 0, 6)}",
        f"  A fake sale of {rounded(values['sale'], ASSET_DECIMALS, 0)} also dilutes its own points a little: "
        f"break-even at threshold + fee × poolIn ÷ ((1 − fee) × supply) = {rounded(threshold + dilution, 0, 6)}.",
        "  Found by search in the model, without the mint bound: "
        + (f"{rounded(found, PRICE_DECIMALS, 6)}" if found is not None else "no gain below a price of 100"),
        "  With the mint bound: "
        + (
            f"a gain first at {rounded(found_bound, PRICE_DECIMALS, 6)} (a bug!)"
            if found_bound is not None
            else f"no price up to 100 gives a gain; best over the sweep {rounded(max(bounded), ASSET_DECIMALS, 6)}"
        ),
        "",
        f"Gain (payout − poolIn) of one fake sale of {rounded(values['sale'], ASSET_DECIMALS, 0)} at "
        f"{values['rate_bps']} bps, redeemed at once, with {rounded(supply, 18, 0)} honest points:",
        f"{'price':>10}{'without the bound':>22}{'with the bound':>18}",
    ]
    for text in SHOWN_PRICES:
        price = int(Fraction(text) * PRICE_ONE)
        try:
            free, capped = gain_at(values, price, False).gain, gain_at(values, price, True).gain
        except ParameterError:
            continue
        lines.append(f"{text:>10}{rounded(free, ASSET_DECIMALS, 2):>22}{rounded(capped, ASSET_DECIMALS, 2):>18}")
    cap = min(values["daily_cap"], values["global_cap"])
    per_point = Fraction(values["price"], PRICE_ONE) * Fraction(BPS - fee, BPS) - Fraction(share, BPS - share)
    lines += [
        "",
        f"Attack at price {rounded(values['price'], PRICE_DECIMALS, 4)} for {values['days']} days "
        f"(fraudster's cap {rounded(values['daily_cap'], 18, 0)} points/day, global cap "
        f"{rounded(values['global_cap'], 18, 0)}; {values['honest_orders']} honest orders a day):",
        "(holders' loss: their cash-out value against the same days without fraud, so far)",
        f"{'day':>5}{'':3}{'run':24}{'fake sales':>11}{'points':>10}{'fraud gain':>12}{'tax out':>10}"
        f"{'holders lost':>14}{'price':>9}",
    ]
    # Each attack against the same days without fraud under the same rule.
    baselines = [attack(values, False, "no fraud, no bound", fraud=False)[1], runs[0][1]]
    for (trace, figures), honest_only in zip(runs[1:], baselines, strict=True):
        for day, (with_fraud, without) in enumerate(zip(figures, honest_only, strict=True), start=1):
            loss = without["honest_value"] - with_fraud["honest_value"]
            lines.append(
                f"{day:>5}{'':3}{trace.name:24}{with_fraud['sales']:>11}{rounded(with_fraud['points'], 18, 0):>10}"
                f"{rounded(with_fraud['gain'], ASSET_DECIMALS, 2):>12}"
                f"{rounded(with_fraud['tax'], ASSET_DECIMALS, 2):>10}"
                f"{rounded(loss, ASSET_DECIMALS, 2):>14}"
                f"{rounded(with_fraud['price'], PRICE_DECIMALS, 4):>9}"
            )
    stopped = sum(d["honest_refused"] for _, figures in runs for d in figures)
    if stopped:
        lines.append(
            f"The global cap also refused {stopped} honest orders over the runs (it stops honest merchants too)."
        )
    lines += [
        "",
        "The caps bound the damage: a fraudster mints at most min(its cap, the global cap) = "
        f"{rounded(cap, 18, 0)} points a day, and without the mint bound each gains at most "
        "price × (1 − fee) − pool share ÷ (1 − pool share) "
        f"= {rounded(per_point, 0, 4)} at the attack's price: at most "
        f"{rounded(max(per_point, Fraction(0)) * Fraction(cap, POINT), 0, 2)} a day taken from the holders "
        "(while the price lasts; it falls as the attack dilutes it).",
        "With the mint bound a fake sale never gains: the fraudster pays for every one. The holders still "
        "lose the tax of each fake redemption (tax ÷ (1 − fee) ≈ "
        f"{rounded(Fraction(values['tax_bps'], BPS - fee) * 100, 0, 1)} % of poolIn), which leaves the pool for "
        "the tax collector: the bound's (1 − fee) counts the whole fee as paid to the pool, but only "
        "fee − tax stays. A collector in league with the fraudster gains that; a bound with "
        "(1 − fee + tax) in its place would leave the holders whole.",
    ]
    return lines
