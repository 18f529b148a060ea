"""Stateful property test: random sequences of pool actions against a real anvil node.

A hypothesis `RuleBasedStateMachine` drives checkouts, transfers (plain and `transferFrom`),
approvals, spending (direct and by EIP-712 permission, including bad and replayed permissions),
redemptions, top-ups, direct burns (`burn`, `burnFrom`), tax withdrawals, time jumps and admin
changes (fees, pool share, merchant rates / revocation / re-activation / caps, pause, tax collector)
by all twenty local accounts, and keeps a ghost model of the pool written from SPEC §2 with integer
math only (not from the contract):

    skim   = floor(sale * rate / 10000)         gross = floor(n * reserve / supply)
    poolIn = ceil(skim * poolShare / 10000)     fee   = ceil(gross * feeBps / 10000)
    points = (skim - poolIn) * 10**(18 - dec)   tax   = floor(gross * taxBps / 10000)
    points = min(points, floor(poolIn * supply * 10000 / (reserve * (10000 - feeBps))))
                                                payout = gross - fee; reserve -= payout + tax
                                                (the last redemption: fee = tax, kept = 0)

Every action is predicted first. If the model finds no reason for it to fail, it must succeed and its
event must carry the model's figures (SPEC §3.5); otherwise it must revert with one of the reasons the
model found (a custom error with the model's arguments), both as an `eth_call` and as a mined
transaction, and change nothing. After every step the chain is compared with the model (reserve,
taxAccrued, supply, every account's points and asset balance, allowances, permission nonces,
parameters, merchants) and SPEC §3.1, the price formula and sum(balances) == totalSupply are checked.
At the end of every sequence every holder redeems everything, in an order drawn by hypothesis, while
the pool may still be paused (§3.4): each redemption must succeed, the supply and the reserve must
reach 0, the asset must still cover taxAccrued and every collector must be able to withdraw its tax.

Attacks (SPEC §5): a merchant checks out to itself, then top-ups (by funders guarding with the supply
they saw before the attack), parameter changes through the timelock and time pass, then it redeems
what it minted. It must never get back more of the asset than it paid in. After every checkout the
new points' cash-out value must not exceed what the pool received (the mint bound).

Each sequence starts from the fresh deployment: the machine takes an anvil snapshot when it is
created and reverts to it in `teardown`. For speed the machine talks raw JSON-RPC to anvil (batched
reads, transactions with a fixed gas limit so that reverting ones are mined too) instead of going
through web3's contract layer, which is several times slower per call.
"""

from __future__ import annotations

import copy
import functools
import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from web3 import Web3

from greenpoints.anvil import ANVIL_MNEMONIC
from greenpoints.deployment import Deployment
from greenpoints.revert import decode_custom_error
from tests.conftest import PoolEnv, make_env

MAX_UINT = 2**256 - 1
MAX_SALE = 2**128 - 1  # DividendPool.MAX_SALE_AMOUNT
BPS = 10_000
DAY = 86_400
ZERO = "0x" + "00" * 20
GAS = 1_500_000
N_ACCOUNTS = 20
# Bounds from SPEC §2 / the contract's constants, used to predict admin reverts.
MIN_RATE, MAX_RATE = 100, 5_000
MIN_SHARE, MAX_SHARE = 1_000, 5_000
MAX_FEE = 2_000
MIN_CAP, MAX_CAP = 10**18, 10**10 * 10**18
PAUSER_ROLE = keccak(text="PAUSER_ROLE")
MERCHANT_MANAGER_ROLE = keccak(text="MERCHANT_MANAGER_ROLE")
PARAMETER_ADMIN_ROLE = keccak(text="PARAMETER_ADMIN_ROLE")
SPEND_TYPEHASH = keccak(
    text="Spend(address holder,address merchant,uint256 points,bytes32 orderId,uint256 nonce,uint256 deadline)"
)
DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


CHECKED_OUT = topic("CheckedOut(address,address,bytes32,uint256,uint256,uint256,uint256,uint256)")
REDEEMED = topic("Redeemed(address,uint256,uint256,uint256,uint256,uint256,uint256)")
SPENT = topic("Spent(address,address,bytes32,uint256,uint256,uint256)")
FUNDED = topic("Funded(address,uint256,uint256,uint256)")
POINTS_BURNED = topic("PointsBurned(address,uint256,uint256,uint256)")
TAX_WITHDRAWN = topic("TaxWithdrawn(address,uint256,uint256,uint256)")
PERMISSIONS_CANCELLED = topic("SpendPermissionsCancelled(address,uint256)")

# A violated condition the model found: (error name, expected arguments or None for "any").
Reason = tuple[str, tuple[Any, ...] | None]


@functools.cache
def selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


def word(value: Any) -> bytes:
    if isinstance(value, str):  # address
        return bytes.fromhex(value.removeprefix("0x")).rjust(32, b"\0")
    if isinstance(value, bytes):  # bytes32
        assert len(value) == 32
        return value
    return int(value).to_bytes(32, "big")  # uint / bool


def calldata(signature: str, *args: Any) -> str:
    """ABI-encoded call; static argument types are encoded by hand (eth_abi is slow per call)."""
    if "bytes)" in signature:
        arg_types = signature[signature.index("(") + 1 : -1].split(",")
        return "0x" + (selector(signature) + encode(arg_types, list(args))).hex()
    return "0x" + (selector(signature) + b"".join(word(a) for a in args)).hex()


def order_id(n: int) -> bytes:
    return n.to_bytes(32, "big")


def norm(value: Any) -> Any:
    """Compare addresses case-insensitively and bytes as bytes."""
    if isinstance(value, str):
        return value.lower()
    return value


@functools.cache
def account_keys() -> tuple[bytes, ...]:
    """Private keys of anvil's accounts (its fixed mnemonic), for signing `Spend` permissions."""
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        bytes(Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key) for i in range(N_ACCOUNTS)
    )


class Rpc:
    """Raw JSON-RPC to anvil over one keep-alive HTTP connection (TCP_NODELAY), with batching."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        self.conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port or 80, timeout=30)
        self.conn.connect()
        assert self.conn.sock is not None
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.next_id = 0

    def close(self) -> None:
        self.conn.close()

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        body = []
        for method, params in calls:
            self.next_id += 1
            body.append({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        self.conn.request("POST", "/", json.dumps(body), {"Content-Type": "application/json"})
        answers = json.loads(self.conn.getresponse().read())
        by_id = {a["id"]: a for a in answers}
        return [by_id[b["id"]] for b in body]

    def request(self, method: str, params: list[Any]) -> Any:
        answer = self.batch([(method, params)])[0]
        if "error" in answer:
            raise AssertionError(f"{method} failed: {answer['error']}")
        return answer["result"]

    @staticmethod
    def eth_call(to: str, data: str, sender: str | None = None) -> tuple[str, list[Any]]:
        tx = {"to": to, "data": data}
        if sender is not None:
            tx["from"] = sender
        return ("eth_call", [tx, "latest"])

    def latest_timestamp(self) -> int:
        return int(self.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def decode_error(error: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    data = error.get("data") or "0x"
    if not isinstance(data, str):
        data = str(data)
    if data.startswith("0x4e487b71"):
        return "Panic", (int(data[10:], 16),)
    if len(data) < 10:
        return "<no data>", ()
    decoded = decode_custom_error(data)
    if decoded is None:
        return f"<unknown {data[:10]}>", ()
    return decoded


def words(hex_data: str) -> list[int]:
    raw = bytes.fromhex(hex_data.removeprefix("0x"))
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw), 32)]


# ====================================================================== ghost model (SPEC §2)


@dataclass
class MerchantModel:
    rate: int = 0
    cap: int = 0
    active: bool = False
    day: int = 0
    minted: int = 0


@dataclass
class Model:
    """The pool as SPEC §2 describes it, in integers. Nothing here reads the chain."""

    decimals: int
    reserve: int = 0
    tax_accrued: int = 0
    supply: int = 0
    points: dict[str, int] = field(default_factory=dict)
    asset: dict[str, int] = field(default_factory=dict)  # asset balances: the actors and the pool
    asset_allowance: dict[str, int] = field(default_factory=dict)  # actor -> pool
    points_allowance: dict[tuple[str, str], int] = field(default_factory=dict)
    nonces: dict[str, int] = field(default_factory=dict)
    fee_bps: int = 1_000
    tax_bps: int = 600
    pool_share_bps: int = 3_000
    paused: bool = False
    collector: str = ZERO
    former_tax: dict[str, int] = field(default_factory=dict)  # tax owed to former collectors
    global_cap: int = 0
    global_day: int = 0
    global_minted: int = 0
    merchants: dict[str, MerchantModel] = field(default_factory=dict)
    checked_out: set[tuple[str, int]] = field(default_factory=set)
    spent: set[tuple[str, str, int]] = field(default_factory=set)  # (merchant, holder, order)

    @property
    def scale(self) -> int:
        return 10 ** (18 - self.decimals)

    def quote_checkout(self, rate: int, sale: int) -> tuple[int, int]:
        """(points, poolIn) for a sale at skim rate `rate`, with the mint bound while points exist."""
        skim = sale * rate // BPS
        pool_in = -(-skim * self.pool_share_bps // BPS)
        points = (skim - pool_in) * self.scale
        if self.supply > 0 and self.reserve > 0:
            points = min(points, pool_in * self.supply * BPS // (self.reserve * (BPS - self.fee_bps)))
        return points, pool_in

    def quote_redeem(self, n: int, last_rule: bool = True) -> tuple[int, int, int]:
        """(payout, tax, kept) for redeeming `n` points; the whole supply pays only the tax."""
        if self.supply == 0:
            return 0, 0, 0
        gross = n * self.reserve // self.supply
        tax = gross * self.tax_bps // BPS
        if last_rule and n == self.supply:
            return gross - tax, tax, 0
        fee = -(-gross * self.fee_bps // BPS)
        return gross - fee, tax, fee - tax

    def tax_owed(self, account: str) -> int:
        current = self.tax_accrued - sum(self.former_tax.values()) if account == self.collector else 0
        return self.former_tax.get(account, 0) + current

    def price(self) -> int:
        return 0 if self.supply == 0 else self.reserve * self.scale * 10**18 // self.supply

    def spend_allowance(self, owner: str, spender: str, amount: int) -> None:
        current = self.points_allowance.get((owner, spender), 0)
        if current != MAX_UINT:
            self.points_allowance[(owner, spender)] = current - amount

    def burn(self, holder: str, n: int) -> None:
        self.points[holder] -= n
        self.supply -= n


# ====================================================================== strategies

ACCOUNT = st.integers(0, N_ACCOUNTS - 1)
ACCOUNT_OR_ZERO = st.integers(-1, N_ACCOUNTS - 1)  # -1: the zero address
# (prefer an account that already is a merchant / holds points / has an allowance, index); mostly prefer.
PICK = st.tuples(st.sampled_from([True, True, True, False]), st.integers(0, 10**6))
# (reuse an order id this merchant already used: a replay, fresh id)
ORDER = st.tuples(st.sampled_from([False, False, False, True]), st.integers(0, 2**32))
ORDINARY_UNITS = st.tuples(st.just("units"), st.integers(0, 20_000), st.integers(0, 10**6))
# Asset amounts: dust in base units, ordinary and large whole-unit amounts, and absurd values.
ASSET_AMOUNT = st.one_of(
    st.tuples(st.just("raw"), st.integers(0, 60)),
    ORDINARY_UNITS,
    ORDINARY_UNITS,
    ORDINARY_UNITS,
    st.tuples(st.just("units"), st.integers(0, 3 * 10**7), st.integers(0, 10**6)),
    st.tuples(st.just("raw"), st.sampled_from([MAX_UINT, 2**255, 2**200, 10**40])),
)
# Points amounts relative to the holder's balance: (mode, raw)
POINTS_AMOUNT = st.tuples(
    st.sampled_from(["all", "all", "part", "part", "part", "part", "dust", "over", "zero", "huge"]),
    st.integers(0, 2**80),
)
# Direct (`transfer`, `burn`) or through an allowance (`transferFrom`, `burnFrom`).
VIA = st.sampled_from(["direct", "direct", "direct", "allowance"])


def step(f: Callable[..., None]) -> Callable[..., None]:
    """Mark the machine dirty until the invariant has checked the step (teardown skips the drain otherwise)."""

    @functools.wraps(f)
    def wrapper(self: PoolMachine, *args: Any, **kwargs: Any) -> None:
        self.step_ok = False
        f(self, *args, **kwargs)

    return wrapper


class PoolMachine(RuleBasedStateMachine):
    """Random pool sequences against the chain; subclassed per deployment with `env` and `rpc` set."""

    env: ClassVar[PoolEnv]
    rpc: ClassVar[Rpc]
    stats: ClassVar[dict[str, int]]
    baseline: ClassVar[Model | None]

    def __init__(self) -> None:
        super().__init__()
        env = self.env
        self.snap = self.rpc.request("evm_snapshot", [])
        self.step_ok = True
        self.drain_order: list[int] = list(range(N_ACCOUNTS))
        self.drain_split = False
        self.last_permit: tuple[Any, ...] | None = None
        self.actors = [env.admin, env.collector, *env.merchants, *env.customers]
        assert len(self.actors) == N_ACCOUNTS
        self.pool = env.pool.address
        self.timelock = env.deployment.timelock  # impersonated by run_machine: the parameter admin
        self.token = env.token.address
        self.asset_addr = env.asset.address
        self.stats["examples"] += 1
        # Asset balances, allowances and nonces are compared for the accounts a step touched, and
        # for every account on the first check of a sequence and at its end; points always for all.
        self.touched: set[str] = set()
        self.full_check = True
        try:
            self._start_at_noon()
            # Every sequence starts from the same snapshot, so the starting state is read once per test
            # (the first, full check of each sequence confirms it).
            if self.baseline is None:
                type(self).baseline = self._baseline()
            assert self.baseline is not None
            self.model = copy.deepcopy(self.baseline)
        except BaseException:
            self.rpc.request("evm_revert", [self.snap])
            raise

    # ------------------------------------------------------------------ set-up and chain access

    def _start_at_noon(self) -> None:
        """Start every sequence at the next UTC noon, far from midnight, so the daily-cap day is
        predictable whatever the wall clock says (the revert in `teardown` undoes the jump)."""
        latest = self.rpc.latest_timestamp()
        self._warp_to(latest - latest % DAY + DAY + DAY // 2)

    def _warp_to(self, timestamp: int) -> None:
        self.rpc.request("evm_setNextBlockTimestamp", [timestamp])
        self.rpc.request("evm_mine", [])
        self.now = timestamp

    def _baseline(self) -> Model:
        """The deployment's starting state (supply, balances, float, allowances, merchants)."""
        calls = [
            Rpc.eth_call(self.pool, calldata("reserve()")),
            Rpc.eth_call(self.pool, calldata("taxAccrued()")),
            Rpc.eth_call(self.token, calldata("totalSupply()")),
            Rpc.eth_call(self.pool, calldata("feeBps()")),
            Rpc.eth_call(self.pool, calldata("taxBps()")),
            Rpc.eth_call(self.pool, calldata("poolShareBps()")),
            Rpc.eth_call(self.pool, calldata("paused()")),
            Rpc.eth_call(self.pool, calldata("taxCollector()")),
            Rpc.eth_call(self.asset_addr, calldata("balanceOf(address)", self.pool)),
            Rpc.eth_call(self.pool, calldata("globalDailyCap()")),
            Rpc.eth_call(self.pool, calldata("globalMintedToday()")),
        ]
        for a in self.actors:
            calls += [
                Rpc.eth_call(self.token, calldata("balanceOf(address)", a)),
                Rpc.eth_call(self.asset_addr, calldata("balanceOf(address)", a)),
                Rpc.eth_call(self.asset_addr, calldata("allowance(address,address)", a, self.pool)),
                Rpc.eth_call(self.pool, calldata("nonces(address)", a)),
                Rpc.eth_call(self.pool, calldata("merchant(address)", a)),
            ]
        res = [words(r["result"]) for r in self.rpc.batch(calls)]
        m = Model(decimals=self.env.deployment.asset_decimals)
        m.reserve, m.tax_accrued, m.supply = res[0][0], res[1][0], res[2][0]
        m.fee_bps, m.tax_bps, m.pool_share_bps = res[3][0], res[4][0], res[5][0]
        m.paused = bool(res[6][0])
        m.collector = Web3.to_checksum_address(res[7][0].to_bytes(32, "big")[12:])
        m.asset[self.pool] = res[8][0]
        today = self.now // DAY
        m.global_cap, m.global_day, m.global_minted = res[9][0], today, res[10][0]
        for i, a in enumerate(self.actors):
            bal, asset, allowance, nonce, merchant = res[11 + 5 * i : 16 + 5 * i]
            m.points[a], m.asset[a], m.asset_allowance[a], m.nonces[a] = bal[0], asset[0], allowance[0], nonce[0]
            rate, cap, active, minted = merchant
            m.merchants[a] = MerchantModel(rate=rate, cap=cap, active=bool(active), day=today, minted=minted)
        return m

    @staticmethod
    def _tx(sender: str, to: str, data: str) -> dict[str, Any]:
        # A fixed gas limit: no estimate, so a reverting transaction is mined (status 0) too.
        return {
            "from": sender,
            "to": to,
            "data": data,
            "gas": hex(GAS),
            "maxFeePerGas": hex(10**10),
            "maxPriorityFeePerGas": "0x0",
        }

    def _send(self, sender: str, to: str, data: str) -> dict[str, Any]:
        return self._receipt(self.rpc.request("eth_sendTransaction", [self._tx(sender, to, data)]))

    def _receipt(self, tx_hash: str) -> dict[str, Any]:
        # anvil answers eth_sendTransaction before its automined block is stored: poll for the receipt.
        deadline = time.monotonic() + 10
        while True:
            receipt: dict[str, Any] | None = self.rpc.request("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return receipt
            assert time.monotonic() < deadline, f"anvil did not mine {tx_hash}"
            time.sleep(0.0002)

    def _act(self, sender: str, to: str, data: str, reasons: list[Reason], what: str) -> dict[str, Any] | None:
        """Run one action. With no predicted reason to fail it must succeed (returns the receipt);
        otherwise it must revert with one of `reasons`, as a call and as a mined transaction."""
        self.touched.add(sender)
        if not reasons:
            receipt = self._send(sender, to, data)
            if receipt["status"] != "0x1":
                answer = self.rpc.batch([Rpc.eth_call(to, data, sender)])[0]
                why = decode_error(answer["error"]) if "error" in answer else "no revert on replay as a call"
                raise AssertionError(f"{what}: the model expected success, the transaction reverted: {why}")
            self.stats["ok"] += 1
            return receipt
        answer, sent = self.rpc.batch(
            [Rpc.eth_call(to, data, sender), ("eth_sendTransaction", [self._tx(sender, to, data)])]
        )
        assert "error" in answer, f"{what}: the model expected a revert ({reasons}), the call succeeded"
        name, args = decode_error(answer["error"])
        matches = [
            r for r in reasons if r[0] == name and (r[1] is None or [norm(x) for x in r[1]] == [norm(x) for x in args])
        ]
        assert matches, f"{what}: reverted with {name}{args}, the model expected one of {reasons}"
        assert "error" not in sent, sent
        receipt = self._receipt(sent["result"])
        assert receipt["status"] == "0x0", f"{what}: the call reverted with {name} but the transaction succeeded"
        self.stats["reverted"] += 1
        self.stats[f"revert:{name}"] = self.stats.get(f"revert:{name}", 0) + 1
        return None

    def _event(self, receipt: dict[str, Any], emitter: str, event_topic: str) -> tuple[list[str], list[int]]:
        logs = [
            log
            for log in receipt["logs"]
            if log["address"].lower() == emitter.lower() and log["topics"][0] == event_topic
        ]
        assert len(logs) == 1, f"expected one {event_topic} log, got {len(logs)}"
        return logs[0]["topics"], words(logs[0]["data"])

    def _check_after(self, values: list[int]) -> None:
        """SPEC §3.5: the event carries the reserve and supply after the change."""
        assert values[-2:] == [self.model.reserve, self.model.supply], (values[-2:], self.model.reserve)

    # ------------------------------------------------------------------ picking actors and amounts

    def _acct(self, i: int) -> str:
        return ZERO if i < 0 else self.actors[i]

    def _merchant(self, pick: tuple[bool, int]) -> str:
        prefer, i = pick
        known = [a for a in self.actors if self.model.merchants[a].rate > 0]
        if prefer and known:
            return known[i % len(known)]
        return self.actors[i % N_ACCOUNTS]

    def _holder(self, pick: tuple[bool, int]) -> str:
        prefer, i = pick
        holders = [a for a in self.actors if self.model.points[a] > 0]
        if prefer and holders:
            return holders[i % len(holders)]
        return self.actors[i % N_ACCOUNTS]

    def _spender(self, owner: str, pick: tuple[bool, int]) -> str:
        prefer, i = pick
        approved = sorted(s for o, s in self.model.points_allowance if o == owner)
        if prefer and approved:
            return approved[i % len(approved)]
        return self.actors[i % N_ACCOUNTS]

    def _asset_amount(self, spec: tuple[Any, ...]) -> int:
        if spec[0] == "raw":
            return int(spec[1])
        return int(spec[1]) * 10**self.model.decimals + int(spec[2]) % 10**self.model.decimals

    @staticmethod
    def _points_amount(balance: int, spec: tuple[str, int]) -> int:
        mode, raw = spec
        if mode == "all":
            return balance
        if mode == "part":
            return raw % balance + 1 if balance else raw % 1000
        if mode == "dust":
            return raw % 5 + 1
        if mode == "over":
            return balance + 1 + raw % 1000
        if mode == "zero":
            return 0
        return MAX_UINT

    @staticmethod
    def _order(used: set[tuple[str, int]], merchant: str, spec: tuple[bool, int]) -> int:
        reuse, fresh = spec
        mine = sorted(o for m, o in used if m == merchant)
        if reuse and mine:
            return mine[fresh % len(mine)]
        return fresh

    def _pull_reasons(self, sender: str, amount: int) -> list[Reason]:
        """Why `transferFrom(sender -> pool, amount)` of the asset would fail."""
        m = self.model
        reasons: list[Reason] = []
        if amount == 0:
            return reasons
        allowance = m.asset_allowance[sender]
        if allowance != MAX_UINT and allowance < amount:
            reasons.append(("ERC20InsufficientAllowance", (self.pool, allowance, amount)))
        if m.asset[sender] < amount:
            reasons.append(("ERC20InsufficientBalance", (sender, m.asset[sender], amount)))
        return reasons

    def _pull(self, sender: str, amount: int) -> None:
        m = self.model
        if amount == 0:
            return
        if m.asset_allowance[sender] != MAX_UINT:
            m.asset_allowance[sender] -= amount
        m.asset[sender] -= amount
        m.asset[self.pool] += amount

    # ------------------------------------------------------------------ rules: merchants and holders

    @initialize(order=st.permutations(list(range(N_ACCOUNTS))), split=st.booleans())
    def draw_drain_order(self, order: list[int], split: bool) -> None:
        """The order (and whether in two parts) in which every holder redeems at the end."""
        self.drain_order = list(order)
        self.drain_split = split

    def _checkout(self, merchant_pick: tuple[bool, int], customer: int, sale_spec: Any, order: Any) -> None:
        merchant = self._merchant(merchant_pick)
        self._checkout_as(merchant, self._acct(customer), self._asset_amount(sale_spec), order)

    def _checkout_as(self, merchant: str, to: str, sale: int, order: Any) -> tuple[int, int] | None:
        """Check out `sale` by `merchant` for `to`; (points, poolIn) when it (rightly) succeeded."""
        m = self.model
        oid = self._order(m.checked_out, merchant, order)
        mm = m.merchants[merchant]
        points, pool_in = m.quote_checkout(mm.rate, sale)
        today = self.now // DAY
        minted = mm.minted if mm.day == today else 0
        remaining = max(mm.cap - minted, 0)
        global_minted = m.global_minted if m.global_day == today else 0
        global_remaining = max(m.global_cap - global_minted, 0)
        reasons: list[Reason] = []
        if m.paused:
            reasons.append(("EnforcedPause", ()))
        if to == ZERO:
            reasons.append(("PoolZeroAddress", ()))
        if not mm.active:
            reasons.append(("PoolUnknownMerchant", (merchant,)))
        if (merchant, oid) in m.checked_out:
            reasons.append(("PoolOrderReplayed", (merchant, order_id(oid))))
        if sale > MAX_SALE:
            reasons.append(("PoolOutOfBounds", (sale, 0, MAX_SALE)))
        elif points == 0:
            reasons.append(("PoolZeroAmount", ()))
        elif points > remaining:
            reasons.append(("PoolDailyCapExceeded", (merchant, points, remaining)))
        elif points > global_remaining:
            reasons.append(("PoolGlobalDailyCapExceeded", (points, global_remaining)))
        reasons += self._pull_reasons(merchant, pool_in)
        data = calldata("checkout(address,uint256,bytes32)", to, sale, order_id(oid))
        receipt = self._act(merchant, self.pool, data, reasons, f"checkout({sale}) by {merchant}")
        if receipt is None:
            return None
        face = (sale * mm.rate // BPS - pool_in) * m.scale
        mm.day, mm.minted = today, minted + points
        m.global_day, m.global_minted = today, global_minted + points
        m.checked_out.add((merchant, oid))
        self._pull(merchant, pool_in)
        m.reserve += pool_in
        m.points[to] += points
        m.supply += points
        self.stats["checkouts"] += 1
        self.stats["bounded_mints"] += points < face
        # The mint bound: redeemed at once (with the fee), the new points give back at most poolIn.
        assert m.quote_redeem(points, last_rule=False)[0] <= pool_in, "the new points are worth more than poolIn"
        topics, values = self._event(receipt, self.pool, CHECKED_OUT)
        assert values[:3] == [sale, points, pool_in]
        assert topics[3] == "0x" + order_id(oid).hex()
        self._check_after(values)
        return points, pool_in

    @rule(merchant=PICK, customer=ACCOUNT_OR_ZERO, sale=ASSET_AMOUNT, order=ORDER)
    @step
    def checkout(self, merchant: tuple[bool, int], customer: int, sale: Any, order: Any) -> None:
        self._checkout(merchant, customer, sale, order)

    @rule(merchant=PICK, customer=ACCOUNT, sale=ASSET_AMOUNT, order=ORDER)
    @step
    def checkout_registered(self, merchant: tuple[bool, int], customer: int, sale: Any, order: Any) -> None:
        self._checkout((True, merchant[1]), customer, sale, order)

    @rule(merchant=PICK, customer=ACCOUNT, units=st.integers(1, 5_000), order=ORDER)
    @step
    def checkout_ordinary(self, merchant: tuple[bool, int], customer: int, units: int, order: Any) -> None:
        self._checkout((True, merchant[1]), customer, ("units", units, 0), order)

    @rule(holder=PICK, amount=POINTS_AMOUNT, slippage=st.sampled_from(["none", "none", "exact", "over"]))
    @step
    def redeem(self, holder: tuple[bool, int], amount: tuple[str, int], slippage: str) -> None:
        who = self._holder(holder)
        n = self._points_amount(self.model.points[who], amount)
        self._redeem(who, n, slippage)

    def _redeem(self, who: str, n: int, slippage: str) -> int | None:
        """Redeem `n` points of `who`; the payout when it (rightly) succeeded."""
        m = self.model
        balance = m.points[who]
        payout, tax, kept = m.quote_redeem(n) if n <= balance else (0, 0, 0)
        min_payout = {"none": 0, "exact": payout, "over": payout + 1}[slippage]
        reasons: list[Reason] = []  # never EnforcedPause: redemption is never paused (SPEC §3.4)
        if n == 0:
            reasons.append(("PoolZeroAmount", ()))
        if balance < n:
            reasons.append(("PoolInsufficientPoints", (balance, n)))
        elif payout < min_payout:
            reasons.append(("PoolSlippage", (payout, min_payout)))
        data = calldata("redeem(uint256,uint256)", n, min_payout)
        receipt = self._act(who, self.pool, data, reasons, f"redeem({n}) by {who}")
        if receipt is None:
            return None
        reserve_before, supply_before = m.reserve, m.supply
        m.reserve -= payout + tax
        m.tax_accrued += tax
        m.burn(who, n)
        m.asset[self.pool] -= payout
        m.asset[who] += payout
        assert m.reserve >= 0
        # The price never falls on a redemption: reserve'/supply' >= reserve/supply.
        assert m.reserve * supply_before >= reserve_before * m.supply
        self.stats["redeems"] += 1
        if payout == 0:
            self.stats["zero_payouts"] += 1
        _, values = self._event(receipt, self.pool, REDEEMED)
        assert values[:4] == [n, payout, tax, kept]
        self._check_after(values)
        return payout

    @rule(
        holder=PICK,
        merchant=PICK,
        amount=POINTS_AMOUNT,
        order=ORDER,
        mode=st.sampled_from(
            [
                "direct",
                "direct",
                "direct",
                "signed",
                "signed",
                "signed",
                "wrong_signer",
                "stale_nonce",
                "expired",
                "wrong_merchant",
                "replay",
            ]
        ),
        other=ACCOUNT,
    )
    @step
    def spend(
        self, holder: tuple[bool, int], merchant: tuple[bool, int], amount: Any, order: Any, mode: str, other: int
    ) -> None:
        m = self.model
        who = self._holder(holder)
        shop = self._merchant(merchant)
        n = self._points_amount(m.points[who], amount)
        reuse, fresh = order
        mine = sorted(o for s, h, o in m.spent if s == shop and h == who)
        self._spend(who, shop, n, mine[fresh % len(mine)] if reuse and mine else fresh, mode, other)

    @rule(
        holder=st.integers(0, 10**6), merchant=st.integers(0, 10**6), part=st.integers(0, 2**80), signed=st.booleans()
    )
    @step
    def spend_ordinary(self, holder: int, merchant: int, part: int, signed: bool) -> None:
        """An ordinary purchase with points: a holder, an active merchant, part of the balance, a new order."""
        m = self.model
        holders = [a for a in self.actors if m.points[a] > 0] or self.actors
        shops = [a for a in self.actors if m.merchants[a].active] or self.actors
        who, shop = holders[holder % len(holders)], shops[merchant % len(shops)]
        n = part % m.points[who] + 1 if m.points[who] else 1
        self._spend(who, shop, n, 2**40 + len(m.spent), "signed" if signed else "direct", 0)

    def _spend(self, who: str, shop: str, n: int, oid: int, mode: str, other: int) -> None:
        m = self.model
        reasons: list[Reason] = []
        if m.paused:
            reasons.append(("EnforcedPause", ()))
        if mode == "direct":
            sender = who
            data = calldata("spend(address,uint256,bytes32)", shop, n, order_id(oid))
        else:
            sender = shop
            deadline = self.now + DAY
            nonce = m.nonces[who]
            signer = self.actors.index(who)
            named_shop = shop
            if mode == "expired":
                deadline = self.now - 1 - other
            elif mode == "wrong_signer":
                signer = other if self.actors[other] != who else (other + 1) % N_ACCOUNTS
            elif mode == "stale_nonce":
                nonce = nonce - 1 if nonce > 0 else nonce + 1
            elif mode == "wrong_merchant":
                named_shop = self.actors[other] if self.actors[other] != shop else self.actors[(other + 1) % N_ACCOUNTS]
            signature = self._sign_spend(signer, who, named_shop, n, oid, nonce, deadline)
            if mode == "replay" and self.last_permit is not None:
                who, shop, n, oid, deadline, signature, nonce, signer, named_shop = self.last_permit
                sender = shop
                reasons = [("EnforcedPause", ())] if m.paused else []
            if deadline < self.now + 1:
                reasons.append(("PoolPermissionExpired", (deadline,)))
            if self.actors[signer] != who or nonce != m.nonces[who] or named_shop != shop:
                reasons.append(("PoolInvalidSignature", (who,)))
            data = calldata(
                "spendFor(address,uint256,bytes32,uint256,bytes)", who, n, order_id(oid), deadline, signature
            )
        if n == 0:
            reasons.append(("PoolZeroAmount", ()))
        if not m.merchants[shop].active:
            reasons.append(("PoolUnknownMerchant", (shop,)))
        if (shop, who, oid) in m.spent:
            reasons.append(("PoolSpendReplayed", (shop, who, order_id(oid))))
        if m.points[who] < n:
            reasons.append(("PoolInsufficientPoints", (m.points[who], n)))
        elif n == m.supply:
            reasons.append(("PoolLastPoints", ()))  # the last points are redeemed, not spent
        self.touched.add(who)  # its permission nonce is compared after the step
        receipt = self._act(sender, self.pool, data, reasons, f"spend[{mode}]({n}) of {who} at {shop}")
        if receipt is None:
            return
        m.spent.add((shop, who, oid))
        m.burn(who, n)
        if mode != "direct":
            m.nonces[who] += 1
            self.last_permit = (who, shop, n, oid, deadline, signature, nonce, signer, named_shop)
        self.stats["spends"] += 1
        topics, values = self._event(receipt, self.pool, SPENT)
        assert values[0] == n
        assert norm(topics[1][-40:]) == norm(who[2:]) and norm(topics[2][-40:]) == norm(shop[2:])
        self._check_after(values)

    def _sign_spend(self, signer: int, holder: str, shop: str, n: int, oid: int, nonce: int, deadline: int) -> bytes:
        """An EIP-712 `Spend` permission, hashed here from the type string (not via the contract)."""
        domain = keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [DOMAIN_TYPEHASH, keccak(text="GreenPointsPool"), keccak(text="1"), 31337, self.pool],
            )
        )
        struct = keccak(
            encode(
                ["bytes32", "address", "address", "uint256", "bytes32", "uint256", "uint256"],
                [SPEND_TYPEHASH, holder, shop, n, order_id(oid), nonce, deadline],
            )
        )
        digest = keccak(b"\x19\x01" + domain + struct)
        return bytes(Account.unsafe_sign_hash(digest, account_keys()[signer]).signature)

    @rule(sender=PICK, to=st.integers(-3, N_ACCOUNTS - 1), amount=POINTS_AMOUNT, via=VIA, spender=PICK)
    @step
    def transfer(self, sender: tuple[bool, int], to: int, amount: Any, via: str, spender: tuple[bool, int]) -> None:
        m = self.model
        frm = self._holder(sender)
        dest = {-3: self.token, -2: self.pool}.get(to) or self._acct(to)
        n = self._points_amount(m.points[frm], amount)
        reasons: list[Reason] = []
        if via == "direct":
            caller = frm
            data = calldata("transfer(address,uint256)", dest, n)
        else:
            caller = self._spender(frm, spender)
            allowance = m.points_allowance.get((frm, caller), 0)
            if allowance != MAX_UINT and allowance < n:
                reasons.append(("ERC20InsufficientAllowance", (caller, allowance, n)))
            data = calldata("transferFrom(address,address,uint256)", frm, dest, n)
        if dest in (ZERO, self.pool, self.token):  # points sent there would be lost
            reasons.append(("ERC20InvalidReceiver", (dest,)))
        if m.points[frm] < n:
            reasons.append(("ERC20InsufficientBalance", (frm, m.points[frm], n)))
        if self._act(caller, self.token, data, reasons, f"transfer({n}) {frm}->{dest}") is None:
            return
        if via != "direct":
            m.spend_allowance(frm, caller, n)
        m.points[frm] -= n
        m.points[dest] += n

    @rule(owner=PICK, spender=ACCOUNT, amount=st.one_of(POINTS_AMOUNT, st.just(("max", 0))))
    @step
    def approve_points(self, owner: tuple[bool, int], spender: int, amount: Any) -> None:
        m = self.model
        who = self._holder(owner)
        n = MAX_UINT if amount[0] == "max" else self._points_amount(m.points[who], amount)
        data = calldata("approve(address,uint256)", self.actors[spender], n)
        assert self._act(who, self.token, data, [], f"approve({n})") is not None
        m.points_allowance[(who, self.actors[spender])] = n

    @rule(holder=PICK, amount=POINTS_AMOUNT, via=VIA, spender=PICK)
    @step
    def burn(self, holder: tuple[bool, int], amount: Any, via: str, spender: tuple[bool, int]) -> None:
        """A direct burn on the token: the supply falls, the reserve stays."""
        m = self.model
        who = self._holder(holder)
        n = self._points_amount(m.points[who], amount)
        reasons: list[Reason] = []
        if via == "direct":
            caller = who
            data = calldata("burn(uint256)", n)
        else:
            caller = self._spender(who, spender)
            allowance = m.points_allowance.get((who, caller), 0)
            if allowance != MAX_UINT and allowance < n:
                reasons.append(("ERC20InsufficientAllowance", (caller, allowance, n)))
            data = calldata("burnFrom(address,uint256)", who, n)
        if m.points[who] < n:
            reasons.append(("ERC20InsufficientBalance", (who, m.points[who], n)))
        elif n == m.supply and n > 0:
            reasons.append(("PointsLastPoints", ()))
        receipt = self._act(caller, self.token, data, reasons, f"burn({n}) of {who}")
        if receipt is None:
            return
        if via != "direct":
            m.spend_allowance(who, caller, n)
        m.burn(who, n)
        self.stats["burns"] += 1
        _, values = self._event(receipt, self.token, POINTS_BURNED)
        assert values[0] == n
        self._check_after(values)

    @rule(funder=PICK, amount=ASSET_AMOUNT, guard=st.sampled_from(["seen", "seen", "seen", "stale", "none"]))
    @step
    def fund(self, funder: tuple[bool, int], amount: Any, guard: str) -> None:
        """A top-up: anyone may add reserve, also while paused, guarded by the supply the funder saw."""
        m = self.model
        prefer, i = funder
        payers = [a for a in self.actors if m.asset[a] > 0 and m.asset_allowance[a] > 0]
        who = payers[i % len(payers)] if prefer and payers else self.actors[i % N_ACCOUNTS]
        max_supply = {"seen": m.supply, "stale": max(m.supply - 1 - i % 3, 0), "none": MAX_UINT}[guard]
        self._fund(who, self._asset_amount(amount), max_supply)

    def _fund(self, who: str, value: int, max_supply: int) -> bool:
        """Top up `value` from `who`; True when it (rightly) succeeded."""
        m = self.model
        reasons: list[Reason] = []
        if value == 0:
            reasons.append(("PoolZeroAmount", ()))
        if m.supply == 0:
            reasons.append(("PoolNoPoints", ()))
        elif m.supply > max_supply:
            reasons.append(("PoolSupplyAboveLimit", (m.supply, max_supply)))
        reasons += self._pull_reasons(who, value)
        data = calldata("fund(uint256,uint256)", value, max_supply)
        receipt = self._act(who, self.pool, data, reasons, f"fund({value}, {max_supply})")
        if receipt is None:
            return False
        self._pull(who, value)
        m.reserve += value
        _, values = self._event(receipt, self.pool, FUNDED)
        assert values[0] == value
        self._check_after(values)
        return True

    @rule(who=ACCOUNT, units=st.integers(0, 10**8), approve=st.sampled_from(["max", "exact", "none", "zero"]))
    @step
    def give_asset(self, who: int, units: int, approve: str) -> None:
        """Mint test stablecoin to an account and (maybe) approve the pool, so anyone can fund or sell."""
        m = self.model
        account = self.actors[who]
        value = units * 10**m.decimals + units % 7
        receipt = self._act(account, self.asset_addr, calldata("mint(address,uint256)", account, value), [], "mint")
        assert receipt is not None
        m.asset[account] += value
        if approve != "none":
            allowance = {"max": MAX_UINT, "exact": value, "zero": 0}[approve]
            data = calldata("approve(address,uint256)", self.pool, allowance)
            assert self._act(account, self.asset_addr, data, [], "approve asset") is not None
            m.asset_allowance[account] = allowance

    @rule(caller=PICK)
    @step
    def withdraw_tax(self, caller: tuple[bool, int]) -> None:
        m = self.model
        owed = sorted({m.collector, *(a for a, t in m.former_tax.items() if t > 0)})
        who = owed[caller[1] % len(owed)] if caller[0] else self.actors[caller[1] % N_ACCOUNTS]
        self._withdraw_tax(who)

    def _withdraw_tax(self, who: str) -> None:
        m = self.model
        amount = m.tax_owed(who)
        reasons: list[Reason] = [("PoolNoTaxOwed", (who,))] if amount == 0 else []
        receipt = self._act(who, self.pool, calldata("withdrawTax()"), reasons, f"withdrawTax by {who}")
        if receipt is None:
            return
        m.former_tax.pop(who, None)
        m.tax_accrued -= amount
        m.asset[self.pool] -= amount
        m.asset[who] += amount
        _, values = self._event(receipt, self.pool, TAX_WITHDRAWN)
        assert values == [amount, m.reserve, m.supply]

    @rule(who=ACCOUNT)
    @step
    def cancel_permissions(self, who: int) -> None:
        """A holder voids every spend permission it signed (a replay of one then fails)."""
        m = self.model
        account = self.actors[who]
        receipt = self._act(account, self.pool, calldata("cancelSpendPermissions()"), [], "cancelSpendPermissions")
        assert receipt is not None
        m.nonces[account] += 1
        _, values = self._event(receipt, self.pool, PERMISSIONS_CANCELLED)
        assert values == [m.nonces[account]]

    @rule(seconds=st.one_of(st.integers(1, 3 * DAY), st.sampled_from([DAY, 2 * DAY, 7 * DAY])))
    @step
    def warp(self, seconds: int) -> None:
        """Move time on (daily caps reset on a new UTC day), landing away from midnight."""
        target = self.now + seconds
        if target % DAY > DAY - 900:
            target += 1_800
        self._warp_to(target)

    # ------------------------------------------------------------------ rules: admin

    @rule(
        kind=st.sampled_from(
            [
                "fees",
                "share",
                "merchant",
                "merchant",
                "merchant",
                "toggle",
                "toggle",
                "pause",
                "unpause",
                "collector",
                "global_cap",
            ]
        ),
        caller=st.one_of(st.just(0), st.just(0), st.just(0), ACCOUNT),
        who=ACCOUNT_OR_ZERO,
        a=st.integers(0, 6_500),
        b=st.integers(0, 2_500),
        cap=st.sampled_from([0, MIN_CAP - 1, MIN_CAP, 10**21, 10**24, 10**24, MAX_CAP, MAX_CAP + 1]),
        active=st.sampled_from([True, True, False]),
    )
    @step
    def admin(self, kind: str, caller: int, who: int, a: int, b: int, cap: int, active: bool) -> None:
        """Caller 0 is the role's holder: the operator key for merchants and pausing, the timelock
        (impersonated: its schedule/execute path is tested in test_governance) for parameters."""
        self._admin(kind, caller, who, a, b, cap, active)

    def _admin(self, kind: str, caller: int, who: int, a: int, b: int, cap: int, active: bool) -> bool:
        m = self.model
        reasons: list[Reason] = []
        if kind == "toggle":  # the valid one of pause / unpause
            kind = "unpause" if m.paused else "pause"
        if kind in ("pause", "unpause"):
            role, holder = PAUSER_ROLE, self.env.admin
        elif kind == "merchant":
            role, holder = MERCHANT_MANAGER_ROLE, self.env.admin
        else:
            role, holder = PARAMETER_ADMIN_ROLE, self.timelock
        sender = holder if caller == 0 else self.actors[caller]
        if sender != holder:
            reasons.append(("AccessControlUnauthorizedAccount", (sender, role)))
        account = self._acct(who)
        known = [x for x in self.actors if m.merchants[x].rate > 0]
        if kind == "merchant" and who >= 0 and b % 2 == 0 and known:
            account = known[who % len(known)]  # change, revoke or re-activate a registered merchant
        if kind == "fees":
            fee = a % 2_600
            tax = b % (fee + 200)
            if fee > MAX_FEE:
                reasons.append(("PoolOutOfBounds", (fee, 0, MAX_FEE)))
            if tax > fee:
                reasons.append(("PoolOutOfBounds", (tax, 0, fee)))
            data = calldata("setFees(uint16,uint16)", fee, tax)
        elif kind == "share":
            share = a % 6_001
            if not MIN_SHARE <= share <= MAX_SHARE:
                reasons.append(("PoolOutOfBounds", (share, MIN_SHARE, MAX_SHARE)))
            data = calldata("setPoolShare(uint16)", share)
        elif kind == "merchant":
            rate = a
            if account == ZERO:
                reasons.append(("PoolZeroAddress", ()))
            if not MIN_RATE <= rate <= MAX_RATE:
                reasons.append(("PoolOutOfBounds", (rate, MIN_RATE, MAX_RATE)))
            if not MIN_CAP <= cap <= MAX_CAP:
                reasons.append(("PoolOutOfBounds", (cap, MIN_CAP, MAX_CAP)))
            data = calldata("setMerchant(address,uint16,uint256,bool)", account, rate, cap, active)
        elif kind == "pause":
            if m.paused:
                reasons.append(("EnforcedPause", ()))
            data = calldata("pause()")
        elif kind == "unpause":
            if not m.paused:
                reasons.append(("ExpectedPause", ()))
            data = calldata("unpause()")
        elif kind == "global_cap":
            if not MIN_CAP <= cap <= MAX_CAP:
                reasons.append(("PoolOutOfBounds", (cap, MIN_CAP, MAX_CAP)))
            data = calldata("setGlobalDailyCap(uint256)", cap)
        else:
            if account == ZERO:
                reasons.append(("PoolZeroAddress", ()))
            data = calldata("setTaxCollector(address)", account)
        if self._act(sender, self.pool, data, reasons, f"{kind} by {sender}") is None:
            return False
        self.stats[f"admin:{kind}"] = self.stats.get(f"admin:{kind}", 0) + 1
        if kind == "fees":
            m.fee_bps, m.tax_bps = fee, tax
        elif kind == "share":
            m.pool_share_bps = share
        elif kind == "merchant":
            mm = m.merchants[account]  # the day's minted total survives re-registration
            mm.rate, mm.cap, mm.active = rate, cap, active
        elif kind in ("pause", "unpause"):
            m.paused = kind == "pause"
        elif kind == "global_cap":
            m.global_cap = cap
        else:
            # Tax accrued so far stays owed to the collector it accrued under.
            current = m.tax_accrued - sum(m.former_tax.values())
            if current:
                m.former_tax[m.collector] = m.former_tax.get(m.collector, 0) + current
            m.collector = account
        return True

    # ------------------------------------------------------------------ rules: attacks (SPEC §5)

    @rule(
        attacker=ACCOUNT,
        rate=st.sampled_from([MAX_RATE, MAX_RATE, 1_000, 2_500]),
        sales=st.lists(st.integers(1, 200_000), min_size=1, max_size=3),
        between=st.lists(
            st.one_of(
                st.tuples(st.just("fund"), st.integers(1, 10**6)),
                st.tuples(st.just("fee_up"), st.integers(0, MAX_FEE)),
                st.tuples(st.just("share"), st.integers(MIN_SHARE, MAX_SHARE)),
                st.tuples(st.just("rate"), st.integers(MIN_RATE, MAX_RATE)),
                st.tuples(st.just("global_cap"), st.sampled_from([MIN_CAP, 10**24, MAX_CAP])),
                st.tuples(st.just("collector"), st.integers(0, N_ACCOUNTS - 1)),
                st.tuples(st.just("warp"), st.integers(1, 3 * DAY)),
            ),
            max_size=5,
        ),
    )
    @step
    def attack(self, attacker: int, rate: int, sales: list[int], between: list[tuple[str, int]]) -> None:
        """A merchant (registered by the merchant manager at `rate`) reports fake sales to itself,
        top-ups and parameter changes happen, and it redeems the points it minted: it must never get
        back more than it paid in. Funders guard with the supply they saw before the attack began,
        as a front-run top-up would; fees only rise in between (a later fee cut is the residual risk
        documented in docs/economics.md, tested in test_exploits)."""
        m = self.model
        self.stats["attacks"] += 1
        who = self.actors[attacker]
        assert self._admin("merchant", 0, attacker, rate, 1, MAX_CAP, True)
        self.give_asset(attacker, sum(sales), "max")
        supply_seen = m.supply
        paid = minted = 0
        for i, sale in enumerate(sales):
            done = self._checkout_as(who, who, sale * 10**m.decimals, (False, 2**41 + self.stats["attacks"] * 8 + i))
            if done is not None:
                minted += done[0]
                paid += done[1]
        for kind, value in between:
            if kind == "fund":
                funder = self.actors[(attacker + 1 + value) % N_ACCOUNTS]
                self.give_asset(self.actors.index(funder), value, "max")
                landed = self._fund(funder, value * 10**m.decimals, supply_seen)
                assert not (landed and minted > 0), "a top-up landed after points were minted in front of it"
            elif kind == "fee_up":
                fee = max(m.fee_bps, value)
                self._admin("fees", 0, 0, fee, min(m.tax_bps, fee), 0, True)
            elif kind == "share":
                self._admin("share", 0, 0, value, 0, 0, True)
            elif kind == "rate":
                self._admin("merchant", 0, attacker, value, 1, MAX_CAP, True)
            elif kind == "global_cap":
                self._admin("global_cap", 0, 0, 0, 0, value, True)
            elif kind == "collector":
                self._admin("collector", 0, value, 0, 0, 0, True)
            else:
                self.warp(value)
        if minted == 0:
            return
        payout = self._redeem(who, minted, "none")
        assert payout is not None, "the attacker could not redeem what it minted"
        assert payout <= paid, f"SPEC §5: a self-checkout paid in {paid} and got back {payout}"
        self.stats["attacks_redeemed"] += 1

    # ------------------------------------------------------------------ invariants

    def _read_chain(self, full: bool) -> dict[str, Any]:
        """One batched read of everything the model predicts (see `touched` in `__init__`)."""
        pairs = sorted(self.model.points_allowance)
        merchants = [a for a in self.actors if self.model.merchants[a].rate > 0]
        detailed = self.actors if full else [a for a in self.actors if a in self.touched]
        calls = [
            Rpc.eth_call(self.pool, calldata("reserve()")),
            Rpc.eth_call(self.pool, calldata("taxAccrued()")),
            Rpc.eth_call(self.token, calldata("totalSupply()")),
            Rpc.eth_call(self.pool, calldata("price()")),
            Rpc.eth_call(self.asset_addr, calldata("balanceOf(address)", self.pool)),
            Rpc.eth_call(self.pool, calldata("feeBps()")),
            Rpc.eth_call(self.pool, calldata("taxBps()")),
            Rpc.eth_call(self.pool, calldata("poolShareBps()")),
            Rpc.eth_call(self.pool, calldata("paused()")),
            Rpc.eth_call(self.pool, calldata("taxCollector()")),
            Rpc.eth_call(self.pool, calldata("globalDailyCap()")),
            Rpc.eth_call(self.pool, calldata("globalMintedToday()")),
        ]
        calls += [Rpc.eth_call(self.token, calldata("balanceOf(address)", a)) for a in self.actors]
        calls += [Rpc.eth_call(self.pool, calldata("taxOwed(address)", a)) for a in self.actors]
        for a in detailed:
            calls += [
                Rpc.eth_call(self.asset_addr, calldata("balanceOf(address)", a)),
                Rpc.eth_call(self.asset_addr, calldata("allowance(address,address)", a, self.pool)),
                Rpc.eth_call(self.pool, calldata("nonces(address)", a)),
            ]
        calls += [Rpc.eth_call(self.token, calldata("allowance(address,address)", o, s)) for o, s in pairs]
        calls += [Rpc.eth_call(self.pool, calldata("merchant(address)", a)) for a in merchants]
        calls.append(("eth_getBlockByNumber", ["latest", False]))
        answers = self.rpc.batch(calls)
        for answer in answers:
            assert "error" not in answer, answer
        res = [words(a["result"]) for a in answers[:-1]]
        head = [r[0] for r in res[:12]]
        points = res[12 : 12 + N_ACCOUNTS]
        owed = res[12 + N_ACCOUNTS : 12 + 2 * N_ACCOUNTS]
        extra = res[12 + 2 * N_ACCOUNTS : 12 + 2 * N_ACCOUNTS + 3 * len(detailed)]
        rest = res[12 + 2 * N_ACCOUNTS + 3 * len(detailed) :]
        return {
            "reserve": head[0],
            "tax": head[1],
            "supply": head[2],
            "price": head[3],
            "pool_asset": head[4],
            "params": (head[5], head[6], head[7], bool(head[8])),
            "collector": Web3.to_checksum_address(head[9].to_bytes(32, "big")[12:]),
            "global": (head[10], head[11]),
            "points": {a: points[i][0] for i, a in enumerate(self.actors)},
            "tax_owed": {a: owed[i][0] for i, a in enumerate(self.actors)},
            "asset": {a: extra[3 * i][0] for i, a in enumerate(detailed)},
            "asset_allowance": {a: extra[3 * i + 1][0] for i, a in enumerate(detailed)},
            "nonces": {a: extra[3 * i + 2][0] for i, a in enumerate(detailed)},
            "points_allowance": {p: rest[i][0] for i, p in enumerate(pairs)},
            "merchants": {a: tuple(rest[len(pairs) + i]) for i, a in enumerate(merchants)},
            "timestamp": int(answers[-1]["result"]["timestamp"], 16),
        }

    def _check_chain(self, full: bool = False) -> dict[str, Any]:
        c = self._read_chain(full or self.full_check)
        m = self.model
        # SPEC §3.1 on the chain's own figures.
        assert c["pool_asset"] >= c["reserve"] + c["tax"], "SPEC §3.1: the asset does not cover reserve + tax"
        # The price view follows its formula, and the supply is the sum of the holders' balances.
        scale = 10 ** (18 - m.decimals)
        expected_price = 0 if c["supply"] == 0 else c["reserve"] * scale * 10**18 // c["supply"]
        assert c["price"] == expected_price, ("price()", c["price"], expected_price)
        assert sum(c["points"].values()) == c["supply"], "sum of balances != totalSupply"
        # No points exactly when no reserve: nothing is ever left for the next minter to take.
        assert (c["supply"] == 0) == (c["reserve"] == 0), ("supply / reserve", c["supply"], c["reserve"])
        assert sum(c["tax_owed"].values()) == c["tax"], "the tax owed to the actors is not all the tax accrued"
        # The chain equals the ghost model.
        assert (c["reserve"], c["tax"], c["supply"]) == (m.reserve, m.tax_accrued, m.supply), (
            "reserve / taxAccrued / supply differ from the model",
            (c["reserve"], c["tax"], c["supply"]),
            (m.reserve, m.tax_accrued, m.supply),
        )
        assert c["price"] == m.price()
        assert c["pool_asset"] == m.asset[self.pool], ("pool asset", c["pool_asset"], m.asset[self.pool])
        for a in self.actors:
            assert c["points"][a] == m.points[a], ("points balance", a, c["points"][a], m.points[a])
        for a in c["asset"]:
            assert c["asset"][a] == m.asset[a], ("asset balance", a, c["asset"][a], m.asset[a])
            assert c["asset_allowance"][a] == m.asset_allowance[a], ("asset allowance", a)
            assert c["nonces"][a] == m.nonces[a], ("permission nonce", a)
        assert c["points_allowance"] == m.points_allowance
        assert c["params"] == (m.fee_bps, m.tax_bps, m.pool_share_bps, m.paused)
        assert c["collector"] == m.collector
        today = c["timestamp"] // DAY
        assert c["global"] == (m.global_cap, m.global_minted if m.global_day == today else 0)
        assert c["tax_owed"] == {a: m.tax_owed(a) for a in self.actors}
        for a, (rate, cap, active, minted) in c["merchants"].items():
            mm = m.merchants[a]
            expected_minted = mm.minted if mm.day == today else 0
            assert (rate, cap, bool(active), minted) == (mm.rate, mm.cap, mm.active, expected_minted), ("merchant", a)
        self.now = c["timestamp"]
        self.touched.clear()
        self.full_check = False
        return c

    @invariant()
    def chain_matches_model(self) -> None:
        self._check_chain()
        self.stats["steps"] += 1
        self.step_ok = True

    # ------------------------------------------------------------------ end of sequence: SPEC §3.2

    def teardown(self) -> None:
        try:
            if self.step_ok:
                self._drain()
        finally:
            assert self.rpc.request("evm_revert", [self.snap]) is True, "evm_revert failed"

    def _drain(self) -> None:
        """Every holder redeems everything (maybe in two parts), in the drawn order, paused or not."""
        m = self.model
        for i in self.drain_order:
            who = self.actors[i]
            balance = m.points[who]
            if balance == 0:
                continue
            parts = [balance // 2, balance - balance // 2] if self.drain_split and balance > 1 else [balance]
            for n in parts:
                paid = self._redeem(who, n, "exact")
                assert paid is not None, f"SPEC §3.2: {who} could not redeem {n} of {balance}"
            assert m.points[who] == 0
        c = self._check_chain()
        assert c["supply"] == 0, "SPEC §3.2: points left after every holder redeemed"
        assert c["reserve"] == 0, "SPEC §2: the last redemption leaves reserve behind"
        assert c["pool_asset"] >= c["tax"]
        self.stats["drains"] += 1
        self.stats["drains_while_paused"] += m.paused
        for who in [a for a in self.actors if m.tax_owed(a) > 0]:
            self._withdraw_tax(who)
            self.stats["tax_withdrawn"] += 1
        assert m.tax_accrued == 0
        c = self._check_chain(full=True)
        assert c["tax"] == 0 and c["reserve"] == 0


# ====================================================================== tests


@pytest.fixture
def rpc(w3: Web3) -> Iterator[Rpc]:
    client = Rpc(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    yield client
    client.close()


def run_machine(env: PoolEnv, rpc: Rpc, examples: int, steps: int) -> dict[str, int]:
    # The permission signatures hash the EIP-712 domain independently; check it once against the pool.
    assert env.w3.eth.chain_id == 31337
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, keccak(text="GreenPointsPool"), keccak(text="1"), 31337, env.pool.address],
        )
    )
    assert env.pool.functions.DOMAIN_SEPARATOR().call() == domain
    account_keys()
    # The parameter setters are called as the timelock itself (its delay is tested elsewhere).
    rpc.request("anvil_impersonateAccount", [env.deployment.timelock])
    rpc.request("anvil_setBalance", [env.deployment.timelock, hex(10**21)])
    counters = ("examples", "steps", "ok", "reverted", "checkouts", "redeems", "zero_payouts", "spends", "burns")
    extra = ("drains", "drains_while_paused", "tax_withdrawn", "bounded_mints", "attacks", "attacks_redeemed")
    stats = dict.fromkeys((*counters, *extra), 0)
    attributes = {"env": env, "rpc": rpc, "stats": stats, "baseline": None}
    machine = type(f"PoolMachine{env.deployment.asset_decimals}", (PoolMachine,), attributes)
    started = time.monotonic()
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                database=None,
                print_blob=True,
                suppress_health_check=[
                    HealthCheck.too_slow,
                    HealthCheck.data_too_large,
                    HealthCheck.filter_too_much,
                    HealthCheck.function_scoped_fixture,
                ],
            ),
        )
    finally:
        rpc.request("anvil_stopImpersonatingAccount", [env.deployment.timelock])
    stats["seconds"] = round(time.monotonic() - started)
    print(f"\n{machine.__name__}: {stats}")
    assert stats["examples"] >= examples
    assert stats["drains"] >= examples  # every sequence ended with the full drain
    # The attacks and the bound were really exercised, not only drawn.
    assert stats["attacks_redeemed"] > 0 and stats["bounded_mints"] > 0, stats
    return stats


def test_pool_stateful_6_decimals(w3: Web3, deployed: dict[int, Deployment], snapshot: None, rpc: Rpc) -> None:
    run_machine(make_env(w3, deployed[6]), rpc, examples=120, steps=15)


def test_pool_stateful_18_decimals(w3: Web3, deployed: dict[int, Deployment], snapshot: None, rpc: Rpc) -> None:
    run_machine(make_env(w3, deployed[18]), rpc, examples=60, steps=15)
