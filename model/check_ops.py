"""The random operations of the check: each a transaction on chain and the same call in the model.

Chosen by a seeded generator from the model's state (the model and the chain agree until the
check says otherwise), with deliberate refusals mixed in: replayed orders and spends, unknown
merchants, amounts above balances and allowances, slippage, caps, stale top-ups, the whole
supply spent or burned, parameters out of bounds, expired and stale spend permissions. Now and
then every holder hands its points to one, who redeems them all: the last redemption.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from web3.contract import Contract

from greenpoints.permission import sign_spend
from greenpoints.rules import DAY, POINT, Refused
from model.pool import MAX_UINT256, Pool

NO_PREDECESSOR = bytes(32)
# Relative weights of the operations.
WEIGHTS = {
    "checkout": 30,
    "transfer": 8,
    "spend": 8,
    "spend_for": 3,
    "cancel_permissions": 1,
    "redeem": 10,
    "fund": 5,
    "burn": 3,
    "burn_from": 3,
    "withdraw_tax": 3,
    "set_merchant": 3,
    "govern": 2,
    "new_day": 2,
    "pause": 1,
    "last_redemption": 1,
}


@dataclass
class Step:
    """One transaction: what the chain is sent and what the model does.

    `model` returns the call's result; `returns` (a function of it) is the value the chain's call
    returns, when it returns one; `event` (of it and the model after) the event the chain must emit,
    as (name, its non-indexed values). `before` are plain transactions sent first (not compared)."""

    label: str
    sender: str
    to: str
    data: str
    model: Callable[[Pool], Any]
    returns: tuple[str, Callable[[Any], Any]] | None = None
    event: Callable[[Any, Pool], tuple[str, tuple[Any, ...]]] | None = None
    before: list[tuple[str, str, str]] = field(default_factory=list)
    new_day: bool = False
    kind: str = ""  # the operation it belongs to (set by `Operations.draw`)


class Operations:
    """Draws steps for the check from a seeded generator."""

    def __init__(
        self,
        rng: random.Random,
        pool: Contract,
        token: Contract,
        timelock: Contract | None,
        *,
        chain_id: int,
        operator: str,
        sponsor: str,
        merchants: list[str],
        customers: list[str],
        keys: dict[str, LocalAccount],
        unit: int,
        run_tag: int,
    ) -> None:
        self.rng, self.pool, self.token, self.timelock = rng, pool, token, timelock
        self.chain_id, self.operator, self.sponsor = chain_id, operator, sponsor
        self.merchants, self.customers, self.keys, self.unit = merchants, customers, keys, unit
        self.outsider = customers[-1]  # never registered: a merchant the pool does not know
        self.collectors = [operator, sponsor, *customers[:2]]
        self.run_tag = run_tag
        self.serial = 0
        self.orders: list[tuple[str, bytes]] = []  # checked out (merchant, order id)
        self.spends: list[tuple[str, str, bytes]] = []  # spent (merchant, holder, order id)
        self._encoders: dict[tuple[str, str], Callable[..., str]] = {}

    # ------------------------------------------------------------ helpers

    def order_id(self) -> bytes:
        self.serial += 1
        return self.run_tag.to_bytes(16, "big") + self.serial.to_bytes(16, "big")

    def _holders(self, m: Pool) -> list[str]:
        return [c for c in self.customers if m.balance_of(c) > 0]

    def _amount(self, balance: int) -> int:
        """A share of a balance: mostly part of it, sometimes all, now and then more than all."""
        roll = self.rng.random()
        if roll < 0.08:
            return balance + self.rng.randint(1, POINT)
        if roll < 0.2:
            return balance
        return max(1, balance * self.rng.randint(1, 60) // 100)

    def _sale(self) -> int:
        roll = self.rng.random()
        if roll < 0.04:
            return self.rng.randint(0, 9)  # rounds to no points: PoolZeroAmount
        if roll < 0.08:
            return self.rng.randint(50_000, 400_000) * self.unit  # large: meets the caps
        return self.rng.randint(1, 5_000) * self.unit + self.rng.randint(0, 99) * self.unit // 100

    def _pool_call(self, fn: str, *args: Any) -> str:
        return self._encoder(self.pool, fn)(*args)

    def _token_call(self, fn: str, *args: Any) -> str:
        return self._encoder(self.token, fn)(*args)

    def _encoder(self, c: Contract, fn: str) -> Callable[..., str]:
        """Calldata of `fn` on `c`: selector and eth_abi encoding (web3's path costs ~1 ms a call)."""
        key = (c.address, fn)
        if key not in self._encoders:
            entry: Any = next(e for e in c.abi if e.get("type") == "function" and e.get("name") == fn)
            types = [i["type"] for i in entry["inputs"]]
            selector = function_signature_to_4byte_selector(f"{fn}({','.join(types)})").hex()

            def encoder(*args: Any) -> str:
                return "0x" + selector + encode(types, list(args)).hex()

            self._encoders[key] = encoder
        return self._encoders[key]

    # ------------------------------------------------------------ drawing

    def draw(self, m: Pool) -> list[Step]:
        names = list(WEIGHTS)
        while True:
            name = self.rng.choices(names, weights=[WEIGHTS[n] for n in names])[0]
            if m.paused and self.rng.random() < 0.5:
                name = "pause"  # pauses are short: checkouts and spends wait for the unpause
            elif any(not m.merchant(x)[2] for x in self.merchants) and self.rng.random() < 0.1:
                name = "set_merchant"  # so are revocations, mostly
            if name == "govern" and self.timelock is None:
                continue
            steps: list[Step] = getattr(self, name)(m)
            if steps:
                for step in steps:
                    step.kind = step.kind or name
                return steps

    def checkout(self, m: Pool) -> list[Step]:
        rng = self.rng
        merchant = self.outsider if rng.random() < 0.03 else rng.choice(self.merchants)
        customer = self.pool.address if rng.random() < 0.02 else rng.choice(self.customers)
        if self.orders and rng.random() < 0.04:
            merchant, oid = rng.choice(self.orders)  # a retried order: PoolOrderReplayed
        else:
            oid = self.order_id()
        sale = self._sale()
        self.orders.append((merchant, oid))

        def event(q: Any, after: Pool) -> tuple[str, tuple[Any, ...]]:
            return "CheckedOut", (sale, q.points, q.pool_in, after.reserve, after.supply)

        return [
            Step(
                f"checkout of {sale} by {merchant} for {customer}",
                merchant,
                self.pool.address,
                self._pool_call("checkout", customer, sale, oid),
                lambda p: p.checkout(merchant, customer, sale, oid),
                returns=("uint256", lambda q: q.points),
                event=event,
            )
        ]

    def transfer(self, m: Pool) -> list[Step]:
        holders = self._holders(m)
        if not holders:
            return []
        sender = self.rng.choice(holders)
        amount = self._amount(m.balance_of(sender))
        roll = self.rng.random()
        to = (
            self.token.address
            if roll < 0.02
            else self.pool.address
            if roll < 0.04
            else self.rng.choice([c for c in self.customers if c != sender])
        )
        return [
            Step(
                f"transfer of {amount} from {sender} to {to}",
                sender,
                self.token.address,
                self._token_call("transfer", to, amount),
                lambda p: p.transfer(sender, to, amount),
            )
        ]

    def _spend_target(self, m: Pool) -> tuple[str, str, int, bytes] | None:
        holders = self._holders(m)
        if not holders:
            return None
        rng = self.rng
        holder = rng.choice(holders)
        merchant = self.outsider if rng.random() < 0.03 else rng.choice(self.merchants)
        mine = [s for s in self.spends if s[1] == holder]
        if mine and rng.random() < 0.05:
            merchant, _, oid = rng.choice(mine)  # the same spend again: PoolSpendReplayed
        else:
            oid = self.order_id()
        amount = self._amount(m.balance_of(holder))
        self.spends.append((merchant, holder, oid))
        return holder, merchant, amount, oid

    def spend(self, m: Pool) -> list[Step]:
        target = self._spend_target(m)
        if target is None:
            return []
        holder, merchant, amount, oid = target
        return [
            Step(
                f"spend of {amount} by {holder} at {merchant}",
                holder,
                self.pool.address,
                self._pool_call("spend", merchant, amount, oid),
                lambda p: p.spend(holder, merchant, amount, oid),
                event=lambda _r, after: ("Spent", (amount, after.reserve, after.supply)),
            )
        ]

    def spend_for(self, m: Pool) -> list[Step]:
        target = self._spend_target(m)
        if target is None or target[0] not in self.keys:
            return []
        holder, merchant, amount, oid = target
        nonce = m.nonces.get(holder, 0)
        roll = self.rng.random()
        signed_nonce = nonce + 1 if roll < 0.08 else nonce  # a permission for a later nonce: invalid
        # Some expire before they land: the step's block comes after the last one (`m.now`).
        deadline = m.now - self.rng.randint(0, 40) if self.rng.random() < 0.1 else m.now + self.rng.randint(200, 3_600)
        signature = sign_spend(
            self.keys[holder],
            chain_id=self.chain_id,
            pool=self.pool.address,
            merchant=merchant,
            points=amount,
            order_id=oid,
            nonce=signed_nonce,
            deadline=deadline,
        )
        return [
            Step(
                f"spendFor of {amount} of {holder} by {merchant} (nonce {signed_nonce}, deadline {deadline})",
                merchant,
                self.pool.address,
                self._pool_call("spendFor", holder, amount, oid, deadline, signature),
                lambda p: p.spend_for(merchant, holder, amount, oid, deadline, signed_nonce),
                event=lambda _r, after: ("Spent", (amount, after.reserve, after.supply)),
            )
        ]

    def cancel_permissions(self, m: Pool) -> list[Step]:
        holder = self.rng.choice(self.customers)
        return [
            Step(
                f"cancelSpendPermissions by {holder}",
                holder,
                self.pool.address,
                self._pool_call("cancelSpendPermissions"),
                lambda p: p.cancel_spend_permissions(holder),
                event=lambda nonce, _after: ("SpendPermissionsCancelled", (nonce,)),
            )
        ]

    def redeem(self, m: Pool) -> list[Step]:
        holders = self._holders(m)
        if not holders:
            return []
        holder = self.rng.choice(holders)
        amount = 0 if self.rng.random() < 0.02 else self._amount(m.balance_of(holder))
        return [self._redeem_step(m, holder, amount)]

    def _redeem_step(self, m: Pool, holder: str, amount: int) -> Step:
        try:
            quoted = m.quote_redeem(amount).payout
        except Refused:
            quoted = 0
        min_payout = quoted + 1 if self.rng.random() < 0.05 else quoted  # slippage now and then

        def event(q: Any, after: Pool) -> tuple[str, tuple[Any, ...]]:
            return "Redeemed", (amount, q.payout, q.tax, q.kept, after.reserve, after.supply)

        return Step(
            f"redeem of {amount} by {holder} (min payout {min_payout})",
            holder,
            self.pool.address,
            self._pool_call("redeem", amount, min_payout),
            lambda p: p.redeem(holder, amount, min_payout),
            returns=("uint256", lambda q: q.payout),
            event=event,
        )

    def fund(self, m: Pool) -> list[Step]:
        roll = self.rng.random()
        amount = 0 if roll < 0.03 else self.rng.randint(1, 500) * self.unit
        # The supply the funder saw; sometimes it saw fewer points than exist (a mint in front).
        max_supply = max(0, m.supply - 1) if roll > 0.94 else m.supply + self.rng.randint(0, 10) * POINT
        return [
            Step(
                f"fund of {amount} (max supply {max_supply})",
                self.sponsor,
                self.pool.address,
                self._pool_call("fund", amount, max_supply),
                lambda p: p.fund(self.sponsor, amount, max_supply),
                event=lambda _r, after: ("Funded", (amount, after.reserve, after.supply)),
            )
        ]

    def burn(self, m: Pool) -> list[Step]:
        holders = self._holders(m)
        if not holders or self.rng.random() < 0.03:  # a burn of nothing, even with no points, is allowed
            holder, amount = self.rng.choice(self.customers), 0
        else:
            holder = self.rng.choice(holders)
            amount = self._amount(m.balance_of(holder))
        return [
            Step(
                f"burn of {amount} by {holder}",
                holder,
                self.token.address,
                self._token_call("burn", amount),
                lambda p: p.burn(holder, amount),
                event=lambda _r, after: ("PointsBurned", (amount, after.reserve, after.supply)),
            )
        ]

    def burn_from(self, m: Pool) -> list[Step]:
        holders = self._holders(m)
        if not holders:
            return []
        rng = self.rng
        holder = rng.choice(holders)
        spender = rng.choice([c for c in self.customers if c != holder])
        amount = self._amount(m.balance_of(holder))
        allowance = MAX_UINT256 if rng.random() < 0.1 else amount - (1 if rng.random() < 0.1 else 0)
        return [
            Step(
                f"approve of {allowance} by {holder} for {spender}",
                holder,
                self.token.address,
                self._token_call("approve", spender, allowance),
                lambda p: p.approve(holder, spender, allowance),
            ),
            Step(
                f"burnFrom of {amount} of {holder} by {spender}",
                spender,
                self.token.address,
                self._token_call("burnFrom", holder, amount),
                lambda p: p.burn_from(spender, holder, amount),
                event=lambda _r, after: ("PointsBurned", (amount, after.reserve, after.supply)),
            ),
        ]

    def withdraw_tax(self, m: Pool) -> list[Step]:
        owed = [c for c in self.collectors if m.tax_owed(c) > 0]
        caller = self.rng.choice(owed) if owed and self.rng.random() < 0.8 else self.rng.choice(self.collectors)

        def event(amount: Any, after: Pool) -> tuple[str, tuple[Any, ...]]:
            return "TaxWithdrawn", (amount, after.reserve, after.supply)

        return [
            Step(
                f"withdrawTax by {caller}",
                caller,
                self.pool.address,
                self._pool_call("withdrawTax"),
                lambda p: p.withdraw_tax(caller),
                event=event,
            )
        ]

    def set_merchant(self, m: Pool) -> list[Step]:
        rng = self.rng
        merchant = rng.choice(self.merchants)
        rate, cap, active, _minted = m.merchant(merchant)
        inactive = [x for x in self.merchants if not m.merchant(x)[2]]
        roll = rng.random()
        if inactive and roll < 0.6:
            merchant = rng.choice(inactive)
            rate, cap, active, _minted = m.merchant(merchant)
            active = True
        elif roll < 0.7:
            active = False
        elif roll < 0.85:
            cap = rng.choice([rng.randint(500, 5_000) * POINT, 1_000_000 * POINT])
        elif roll < 0.95:
            rate = rng.randint(100, 5_000)
        else:
            rate = rng.choice([0, 99, 5_001])  # out of bounds
        return [
            Step(
                f"setMerchant {merchant} rate {rate} cap {cap} active {active}",
                self.operator,
                self.pool.address,
                self._pool_call("setMerchant", merchant, rate, cap, active),
                lambda p: p.set_merchant(merchant, rate, cap, active),
            )
        ]

    def govern(self, m: Pool) -> list[Step]:
        """A parameter change through the timelock (delay 0): scheduled, then executed."""
        assert self.timelock is not None
        rng = self.rng
        roll = rng.random()
        call: tuple[str, tuple[Any, ...], Callable[[Pool], Any]]
        if roll < 0.3:
            fee = rng.choice([0, 500, 1_000, 1_500, 2_000, 2_001])
            tax = rng.randint(0, fee + 100)
            call = ("setFees", (fee, tax), lambda p: p.set_fees(fee, tax))
        elif roll < 0.55:
            share = rng.choice([999, 1_000, 2_000, 3_000, 4_500, 5_000, 5_001])
            call = ("setPoolShare", (share,), lambda p: p.set_pool_share(share))
        elif roll < 0.8:
            cap = rng.choice([rng.randint(1_000, 20_000) * POINT, 10_000_000 * POINT, 0])
            call = ("setGlobalDailyCap", (cap,), lambda p: p.set_global_daily_cap(cap))
        else:
            collector = rng.choice(self.collectors)
            call = ("setTaxCollector", (collector,), lambda p: p.set_tax_collector(collector))
        fn, args, model = call
        inner = self._pool_call(fn, *args)
        salt = rng.getrandbits(256).to_bytes(32, "big")
        tl = self.timelock
        schedule = tl.functions.schedule(
            self.pool.address, 0, inner, NO_PREDECESSOR, salt, 0
        )._encode_transaction_data()
        execute = tl.functions.execute(self.pool.address, 0, inner, NO_PREDECESSOR, salt)._encode_transaction_data()
        return [
            Step(
                f"{fn}{args} through the timelock",
                self.operator,
                tl.address,
                execute,
                model,
                before=[(self.operator, tl.address, schedule)],
            )
        ]

    def new_day(self, m: Pool) -> list[Step]:
        # A harmless call that lands on the next UTC day: the caps count from zero again.
        holder = self.rng.choice(self.customers)
        step = Step(
            f"a new day (approve by {holder})",
            holder,
            self.token.address,
            self._token_call("approve", self.customers[0], 0),
            lambda p: p.approve(holder, self.customers[0], 0),
            new_day=True,
        )
        return [step]

    def pause(self, m: Pool) -> list[Step]:
        fn, model = ("unpause", Pool.unpause) if m.paused else ("pause", Pool.pause)
        if self.rng.random() < 0.1:  # pausing a paused pool (or the reverse) is refused
            fn, model = ("pause", Pool.pause) if m.paused else ("unpause", Pool.unpause)
        return [Step(fn, self.operator, self.pool.address, self._pool_call(fn), model)]

    def last_redemption(self, m: Pool) -> list[Step]:
        """Every holder hands its points to one, who redeems the whole supply."""
        holders = self._holders(m)
        if not holders or sum(m.balance_of(h) for h in holders) != m.supply:
            return []
        keeper = self.rng.choice(holders)
        steps = []
        for h in holders:
            if h != keeper:
                amount = m.balance_of(h)
                steps.append(
                    Step(
                        f"transfer of all {amount} from {h} to {keeper}",
                        h,
                        self.token.address,
                        self._token_call("transfer", keeper, amount),
                        _transfer(h, keeper, amount),
                    )
                )
        steps.append(self._redeem_step(m, keeper, m.supply))
        return steps


def _transfer(sender: str, to: str, amount: int) -> Callable[[Pool], Any]:
    return lambda p: p.transfer(sender, to, amount)


def next_timestamp(rng: random.Random, now: int, new_day: bool) -> int:
    """The block time of the next step: a few seconds to minutes later, or early on the next day."""
    if new_day:
        return (now // DAY + 1) * DAY + rng.randint(0, 600)
    return now + rng.randint(1, 120)
