"""The article's story under the contract's rules, beside the figures the article claims.

The article (消费增值): orders of 3,800 of which 500 are skimmed, 70 % of it minted as points and
30 % put into the pool; a 12,000 sofa at 15 %; holders redeem (10 % fee, 6 % of it tax) and spend
points at face value. It claims, after order 1 / 20 / 100: pool 150 / 3,000 / ~15,000, points
350 / 3,120 / ~12,000, price 0.43 / 0.96 / ~1.25.

Skim rates are whole basis points on chain and 500 ÷ 3,800 = 13.157… % is not one: the shop
here skims 1,316 bps (13.16 %), 500.08 per order (`rate_bps`, `sale` change it).

Runs: the orders alone; the orders with the spending the claims need (customers spend a share of
each order's new points at the shop, one share for orders 2–20 and one after, each the smallest
that brings the points down to the claim); the orders with redemptions instead (holders redeem a
share of the whole supply after each order, the smallest that lifts the price to the claim).
The sofa is bought after the last order of each run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from greenpoints.rules import BPS, POINT, Refused
from greenpoints.units import PRICE_DECIMALS
from model.figures import percent, rounded
from model.params import ASSET_DECIMALS, Param, describe_params, pool_params, rate_param
from model.pool import Pool
from model.result import Line, Panel, ScenarioResult, standard_panels
from model.trace import Trace

UNIT = 10**ASSET_DECIMALS
SHOP, SOFA_STORE = "shop", "sofa store"
SOFA_BUYER = "sofa buyer"
# The article's claims: (after order, pool, points, price), price as an exact fraction.
CLAIMS = (
    (1, 150, 350, Fraction(43, 100)),
    (20, 3_000, 3_120, Fraction(96, 100)),
    (100, 15_000, 12_000, Fraction(5, 4)),
)
SOFA_CLAIM_POINTS, SOFA_CLAIM_PRICE = 1_260, Fraction(3, 2)  # "1,260 points worth 1,890 at 1.5"
LEGS = ((2, 20), (21, None))  # spending / redemption shares are solved per leg: orders 2–20, then the rest


def params() -> list[Param]:
    return [
        *pool_params(),
        Param("sale", "amount", 3_800 * UNIT, UNIT, 10**12 * UNIT, "each order of the shop"),
        rate_param("rate_bps", 1_316, "the shop's skim rate (500 of 3,800 is 13.157 %, not a whole bps)"),
        Param("orders", "count", 100, 1, 100_000, "orders at the shop"),
        Param(
            "sofa_sale", "amount", 12_000 * UNIT, 0, 10**12 * UNIT, "the sofa, bought after the last order (0: none)"
        ),
        rate_param("sofa_rate_bps", 1_500, "the sofa store's skim rate"),
        Param("customers", "count", 20, 1, 10_000, "customers the orders go to (chosen by the seed)"),
        Param("spend_bps", "bps", 0, 0, BPS, "a run of your own: share of each order's points spent at once"),
        Param("redeem_bps", "bps", 0, 0, BPS - 1, "a run of your own: share of the supply redeemed after each order"),
    ]


@dataclass(frozen=True)
class Policy:
    """After order i in leg k (`legs[k]` = first and last order, None: to the end): spend
    `spend[k]` bps of its new points, redeem `redeem[k]` bps of the supply."""

    spend: tuple[int, ...] = (0, 0)
    redeem: tuple[int, ...] = (0, 0)
    legs: tuple[tuple[int, int | None], ...] = LEGS

    def leg(self, order: int) -> int | None:
        for index, (first, last) in enumerate(self.legs):
            if order >= first and (last is None or order <= last):
                return index
        return None


def story(values: dict[str, int], seed: int, policy: Policy, name: str, *, until: int | None = None) -> Trace:
    """The orders (and the sofa) under `policy`; stops after order `until` when given."""
    pool = Pool(
        ASSET_DECIMALS,
        fee_bps=values["fee_bps"],
        tax_bps=values["tax_bps"],
        pool_share_bps=values["pool_share_bps"],
    )
    cap = pool.bounds.max_daily_cap
    pool.set_merchant(SHOP, values["rate_bps"], cap, True)
    pool.set_merchant(SOFA_STORE, values["sofa_rate_bps"], cap, True)
    trace = Trace(name, {SHOP: "shop", SOFA_STORE: "sofa store"})
    rng = random.Random(seed)
    customers = [f"customer {i}" for i in range(values["customers"])]
    orders = values["orders"] if until is None else min(until, values["orders"])
    trace.record(pool, 0, "start")
    for order in range(1, orders + 1):
        pool.now += 600  # ten minutes between orders: one day holds 144 (the caps are not the point here)
        customer = rng.choice(customers)
        minted = pool.checkout(SHOP, customer, values["sale"], order.to_bytes(32, "big")).points
        trace.minted(SHOP, minted)
        leg = policy.leg(order)
        if leg is not None and policy.spend[leg]:
            spent = minted * policy.spend[leg] // BPS
            if spent and spent < pool.supply:
                pool.spend(customer, SHOP, spent, order.to_bytes(32, "big"))
        if leg is not None and policy.redeem[leg]:
            _redeem_share(pool, rng, customers, policy.redeem[leg])
        trace.record(pool, order, "order")
    if until is None and values["sofa_sale"]:
        quote = pool.checkout(SOFA_STORE, SOFA_BUYER, values["sofa_sale"], b"sofa".rjust(32, b"\0"))
        trace.minted(SOFA_STORE, quote.points)
        trace.record(pool, orders + 1, "sofa")
    return trace


def _redeem_share(pool: Pool, rng: random.Random, holders: list[str], share_bps: int) -> None:
    """Holders, in random order, redeem `share_bps` of the supply between them."""
    left = pool.supply * share_bps // BPS
    for holder in rng.sample(holders, len(holders)):
        if left == 0:
            break
        amount = min(left, pool.balance_of(holder))
        if amount:
            pool.redeem(holder, amount)
            left -= amount


def _smallest_bps(reaches: Callable[[int], bool], high: int) -> int | None:
    """The smallest share in [0, high] bps for which `reaches` holds (monotone), or None."""
    if not reaches(high):
        return None
    low = 0
    while low < high:
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _solve(values: dict[str, int], seed: int, kind: str) -> tuple[list[int | None], Policy]:
    """The per-leg shares (`spend` or `redeem`) that reach the claims at orders 20 and 100."""
    shares: list[int] = [0, 0]
    solved: list[int | None] = []
    for leg, (checkpoint, _pool, points, claimed_price) in enumerate(CLAIMS[1:]):
        if checkpoint > values["orders"]:
            break

        def policy_with(bps: int, leg: int = leg) -> Policy:
            trial = list(shares)
            trial[leg] = bps
            return Policy(spend=(trial[0], trial[1])) if kind == "spend" else Policy(redeem=(trial[0], trial[1]))

        def reaches(
            bps: int, checkpoint: int = checkpoint, points: int = points, price: Fraction = claimed_price
        ) -> bool:
            try:
                row = story(values, seed, policy_with(bps), "trial", until=checkpoint).at_step(checkpoint)
            except Refused:
                return False
            if kind == "spend":
                return row.supply <= points * POINT
            return Fraction(row.price, 10**PRICE_DECIMALS) >= price

        found = _smallest_bps(reaches, BPS if kind == "spend" else BPS - 1)
        solved.append(found)
        shares[leg] = found if found is not None else 0
    policy = Policy(spend=(shares[0], shares[1])) if kind == "spend" else Policy(redeem=(shares[0], shares[1]))
    return solved, policy


def run(values: dict[str, int], seed: int) -> ScenarioResult:
    spend_shares, spend_policy = _solve(values, seed, "spend")
    redeem_shares, redeem_policy = _solve(values, seed, "redeem")
    traces = [
        story(values, seed, Policy(), "orders only"),
        story(values, seed, spend_policy, "with the spending the claims need"),
        story(values, seed, redeem_policy, "with redemptions instead"),
    ]
    if values["spend_bps"] or values["redeem_bps"]:
        s, r = values["spend_bps"], values["redeem_bps"]
        own = Policy(spend=(s,), redeem=(r,), legs=((1, None),))
        traces.append(story(values, seed, own, f"your rates (spend {s} bps, redeem {r} bps)"))
    report = _report(values, traces, spend_shares, redeem_shares)
    return ScenarioResult(
        name="article",
        title="The article's story under the contract's rules",
        params=describe_params(values, params()),
        report=report,
        traces=traces,
        panels=_panels(traces),
    )


def _panels(traces: list[Trace]) -> list[Panel]:
    """The standard panels, with the article's claimed prices marked on the price panel."""
    panels = standard_panels(traces, "order")
    claimed = [int(price * 10**PRICE_DECIMALS) for _, _, _, price in CLAIMS]
    panels[1].lines.append(Line("the article's claims", [c[0] for c in CLAIMS], claimed, 1, 10**PRICE_DECIMALS))
    return panels


def _figures(trace: Trace, order: int) -> tuple[str, str, str]:
    row = trace.at_step(order)
    return (
        rounded(row.reserve, ASSET_DECIMALS, 2),
        rounded(row.supply, 18, 2),
        rounded(row.price, PRICE_DECIMALS, 4),
    )


def _report(
    values: dict[str, int], traces: list[Trace], spend: list[int | None], redeem: list[int | None]
) -> list[str]:
    orders = values["orders"]
    checkpoints = [c for c in CLAIMS if c[0] <= orders]
    skim = values["sale"] * values["rate_bps"] // BPS
    lines = [
        f"Each order: sale {rounded(values['sale'], ASSET_DECIMALS, 2)} at {values['rate_bps']} bps skims "
        f"{rounded(skim, ASSET_DECIMALS, 2)} (the article: 500 of 3,800, i.e. 13.157…%, which no whole "
        "basis-point rate gives exactly).",
        "",
        "pool / points / price after the order:",
    ]
    header = f"{'':44}" + "".join(f"{'order ' + str(c[0]):>34}" for c in checkpoints)
    lines.append(header)
    claim = "".join(f"{f'{p:,} / {n:,} / {rounded(pr, 0, 2)}':>34}" for _, p, n, pr in checkpoints)
    lines.append(f"{'the article claims':44}{claim}")
    for trace in traces:
        cells = "".join(f"{' / '.join(_figures(trace, c[0])):>34}" for c in checkpoints)
        lines.append(f"{trace.name[:43]:44}{cells}")
    lines.append("")
    lines += _plain_statements(values, traces, spend, redeem)
    return lines


def _plain_statements(
    values: dict[str, int], traces: list[Trace], spend: list[int | None], redeem: list[int | None]
) -> list[str]:
    spending, redeeming = traces[1], traces[2]
    share = values["pool_share_bps"]
    out = [
        "What the rules give, plainly:",
        f"- Orders alone pull the price toward pool share ÷ (1 − pool share) = "
        f"{rounded(Fraction(share, BPS - share), 0, 4)}; they never lift it to 0.96 or 1.25.",
    ]
    legs = ("orders 2–20", "orders 21–100")
    if spend:
        for leg, bps in enumerate(spend):
            text = "no share is enough" if bps is None else f"{percent(bps, BPS, 2)} of each order's new points"
            out.append(f"- To have the claimed points, customers must spend {text} at once ({legs[leg]}).")
        row = spending.at_step(min(values["orders"], 100))
        minted = sum(row.minted)
        out.append(
            f"  By order {row.step} that is {percent(minted - row.supply, minted)} of all points minted, "
            "burned at face value: the shop bears that discount off-chain. The pool keeps every unit, "
            "which is why it can match the claimed pool."
        )
        face = values["sale"] * values["rate_bps"] // BPS
        face -= -(-face * share // BPS)
        unbounded = [
            percent(checkpoint * face * (POINT // UNIT) - points * POINT, checkpoint * face * (POINT // UNIT))
            for checkpoint, _pool, points, _price in CLAIMS[1:]
            if checkpoint <= values["orders"]
        ]
        out.append(
            "  Fewer points are minted once the price passes the fraud threshold (the mint bound); without "
            f"it, as the article assumes, {' and '.join(unbounded)} of all points minted by order "
            f"{' and '.join(str(c[0]) for c in CLAIMS[1:] if c[0] <= values['orders'])} would have to be spent."
        )
    if redeem:
        for leg, bps in enumerate(redeem):
            text = (
                "no share below 100 % is enough"
                if bps is None
                else f"{percent(bps, BPS, 2)} of the whole supply after every order"
            )
            out.append(f"- Through redemptions alone the claimed price needs {text} ({legs[leg]}).")
        last = redeeming.at_step(min(values["orders"], 100))
        out.append(
            f"  The pool is then {rounded(last.reserve, ASSET_DECIMALS, 2)}, not the claimed "
            f"{CLAIMS[-1][1] if values['orders'] >= 100 else CLAIMS[1][1]:,}: a redemption takes "
            f"{percent(BPS - (values['fee_bps'] - values['tax_bps']), BPS)} of what it is worth out of the pool."
        )
    out.append(
        "- The claimed pool (150 × orders) holds only if nobody redeems at all; the claims need heavy "
        "spending, not redemptions."
    )
    if values["sofa_sale"]:
        out.append("")
        out.append(
            f"The sofa ({rounded(values['sofa_sale'], ASSET_DECIMALS, 0)} at {values['sofa_rate_bps']} bps) "
            f"after the last order; the article: {SOFA_CLAIM_POINTS:,} points, worth "
            f"{rounded(SOFA_CLAIM_POINTS * SOFA_CLAIM_PRICE, 0, 0)} at a price of 1.5:"
        )
        for trace in traces:
            before, after = trace.rows[-2], trace.rows[-1]
            points = after.minted[1] - before.minted[1]
            value = Fraction(points * after.price, POINT * 10**PRICE_DECIMALS)
            bound = " (mint bound: price above the fraud threshold)" if points < _face_sofa(values) else ""
            out.append(
                f"- {trace.name}: {rounded(points, 18, 2)} points at price "
                f"{rounded(before.price, PRICE_DECIMALS, 4)}, cash-out value before the fee "
                f"{rounded(value, 0, 2)}{bound}"
            )
    return out


def _face_sofa(values: dict[str, int]) -> int:
    skim = values["sofa_sale"] * values["sofa_rate_bps"] // BPS
    pool_in = -(-skim * values["pool_share_bps"] // BPS)
    return (skim - pool_in) * (POINT // UNIT)
