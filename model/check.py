"""`greenpoints simulate --check`: a seeded random sequence, run on chain and in the model side by side.

Every step is first tried as a call on the pending block (at the block time the check chose, so
the chain and the model see the same UTC day), then by the model. Both must refuse it with the
same custom error and arguments, or both accept it with the same return value; an accepted step
is then sent, its event must carry the model's figures, and every view of the pool and the token
(reserve, supply, price, tax books, parameters, caps, merchants, balances, nonces, allowances)
must equal the model's. The first difference stops the check with one line.

It runs on a local deployment (demo merchants, a test asset, the unlocked operator account, a
timelock without delay); the model starts from what the chain shows at the start.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3.contract import Contract

from greenpoints.anvil import ANVIL_MNEMONIC
from greenpoints.chain import contract, send
from greenpoints.deploy import MAX_UINT256, local_roles
from greenpoints.deployment import Deployment
from greenpoints.errors import DeploymentError, GreenPointsError
from greenpoints.revert import decode_custom_error
from greenpoints.rules import Refused, day_of
from model.check_ops import Operations, Step, next_timestamp
from model.check_views import View, Views, normal
from model.pool import Merchant, Pool
from model.rpc import Rpc, RpcError

GAS = 3_000_000  # sent with every transaction: its call on the pending block already proved it runs
SPONSOR_FLOAT = 10**12  # whole units of the test asset minted to the sponsor for top-ups


class CheckFailed(GreenPointsError):
    """The model and the chain disagree."""


@dataclass
class CheckResult:
    """Steps run, accepted ones by operation, refused ones by error, and last redemptions."""

    steps: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    emptied: int = 0  # redemptions of the whole supply (the pool ended empty)

    def describe(self) -> str:
        done = ", ".join(f"{n} {kind}" for kind, n in self.accepted.most_common())
        refused = ", ".join(f"{n} {error}" for error, n in self.refused.most_common())
        return f"accepted {done}; {self.emptied} last redemptions; refused {refused or 'none'}"


def _provider_url(w3: Web3) -> str:
    url = getattr(w3.provider, "endpoint_uri", None)
    if not isinstance(url, str):
        raise DeploymentError("the check needs an HTTP JSON-RPC provider")
    return url


def _keys(w3: Web3, accounts: list[str]) -> dict[str, LocalAccount]:
    """The keys of anvil's unlocked accounts (its public development mnemonic), for spend permissions."""
    Account.enable_unaudited_hdwallet_features()
    order = [str(a) for a in w3.eth.accounts]
    keys = {}
    for address in accounts:
        account: LocalAccount = Account.from_mnemonic(
            ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{order.index(address)}"
        )
        if account.address == address:
            keys[address] = account
    return keys


def mirror(
    rpc: Rpc,
    views: Views,
    pool_contract: Contract,
    asset_decimals: int,
    accounts: list[str],
    merchants: list[str],
    now: int,
    pool_class: type[Pool],
) -> Pool:
    """A model pool holding what the chain shows now (balances of the accounts the check uses)."""
    m = pool_class(asset_decimals, address=pool_contract.address, token_address=views.token.address, now=now)
    read: list[View] = [*views.pool_views(), *(views.balance(a) for a in accounts)]
    read += [views.merchant(a) for a in merchants] + [views.tax_owed(a) for a in accounts]
    read += [views.nonce(a) for a in accounts]
    values = dict(zip((v.key for v in read), _read(rpc, read), strict=True))
    m.reserve, m.supply, m.tax_accrued = values["reserve"], values["totalSupply"], values["taxAccrued"]
    m.fee_bps, m.tax_bps, m.pool_share_bps = values["feeBps"], values["taxBps"], values["poolShareBps"]
    m.global_daily_cap, m.paused = values["globalDailyCap"], values["paused"]
    m.global_day, m.global_minted = day_of(now), values["globalMintedToday"]
    collector = next(a for a in accounts if a.lower() == values["taxCollector"])
    m.tax_collector = collector
    for a in accounts:
        m.balances[a] = values[f"balanceOf({a})"]
        m.nonces[a] = values[f"nonces({a})"]
        owed = values[f"taxOwed({a})"]
        if a != collector and owed:
            m.former_tax[a] = owed
    m.former_tax_total = m.tax_accrued - values[f"taxOwed({collector})"]
    others = m.supply - sum(m.balances.values())
    if others:
        m.balances["(holders outside the check)"] = others
    for a in merchants:
        rate, cap, active, minted = values[f"merchant({a})"]
        if rate:
            m.merchants[a] = Merchant(rate, cap, active, day_of(now), minted)
    return m


def _read(rpc: Rpc, views: list[View], extra: list[tuple[str, list[Any]]] | None = None) -> list[Any]:
    calls = [("eth_call", [{"to": v.to, "data": v.data}, "latest"]) for v in views]
    results = rpc.batch([*(extra or []), *calls])
    head, body = results[: len(extra or [])], results[len(extra or []) :]
    out = []
    for view, result in zip(views, body, strict=True):
        if isinstance(result, RpcError):
            raise CheckFailed(f"reading {view.key} failed: {result}")
        out.append(view.decode(result))
    return [*head, *out]


def _event_table(*contracts: Contract) -> dict[str, tuple[str, list[str]]]:
    """topic0 → (event name, types of its non-indexed fields)."""
    table = {}
    for c in contracts:
        for entry in c.abi:
            if entry["type"] == "event":
                topic = "0x" + event_abi_to_log_topic(entry).hex()
                table[topic] = (entry["name"], [i["type"] for i in entry["inputs"] if not i["indexed"]])
    return table


def check(
    w3: Web3,
    deployment: Deployment,
    steps: int,
    seed: int,
    *,
    pool_class: type[Pool] = Pool,
    log: Callable[[str], None] | None = print,
) -> CheckResult:
    """Run `steps` random steps on chain and in the model; raise `CheckFailed` on the first difference."""
    if not deployment.merchants or not deployment.test_asset:
        raise DeploymentError("simulate --check runs on a local deployment (demo merchants, a test asset)")
    rpc = Rpc(_provider_url(w3))
    pool_c = contract(w3, "DividendPool", deployment.pool)
    token_c = contract(w3, "PointsToken", deployment.points_token)
    stable = contract(w3, "TestStablecoin", deployment.asset)
    # Parameter changes go through the timelock; with a delay they cannot land within the check.
    timelock = contract(w3, "TimelockController", deployment.timelock) if deployment.admin_delay == 0 else None
    roles = local_roles(w3)
    operator, sponsor = deployment.admin, roles["tax_collector"]
    merchants = [m.address for m in deployment.merchants]
    customers: list[str] = roles["customers"]
    accounts = list(dict.fromkeys([operator, sponsor, *merchants, *customers]))
    # The sponsor tops the pool up: give it the test asset and let the pool pull it (not compared).
    send(stable.functions.mint(sponsor, SPONSOR_FLOAT * 10**deployment.asset_decimals), sponsor)
    send(stable.functions.approve(deployment.pool, MAX_UINT256), sponsor)

    views = Views(pool_c, token_c)
    latest = rpc.call("eth_getBlockByNumber", "latest", False)
    now, block = int(latest["timestamp"], 16), int(latest["number"], 16)
    model = mirror(rpc, views, pool_c, deployment.asset_decimals, accounts, merchants, now, pool_class)
    rng = random.Random(seed)
    ops = Operations(
        rng,
        pool_c,
        token_c,
        timelock,
        chain_id=deployment.chain_id,
        operator=operator,
        sponsor=sponsor,
        merchants=merchants,
        customers=customers,
        keys=_keys(w3, customers),
        unit=10**deployment.asset_decimals,
        run_tag=block * 2**32 + seed,
    )
    events = _event_table(pool_c, token_c)
    compared = [*views.pool_views(), *(views.balance(a) for a in accounts), *(views.merchant(a) for a in merchants)]
    compared += [views.nonce(c) for c in customers] + [views.tax_owed(a) for a in ops.collectors]
    compared.append(views.merchant(ops.outsider))
    allowances: dict[str, View] = {}
    result = CheckResult()
    every = max(1, steps // 10)
    queue: list[Step] = []
    while result.steps < steps:
        if not queue:
            queue = ops.draw(model)
        step = queue.pop(0)
        result.steps += 1
        number = result.steps
        for sender, to, data in step.before:
            now = next_timestamp(rng, now, False)
            _send(rpc, now, sender, to, data, f"step {number} ({step.label}): preparing")
        at = next_timestamp(rng, now, step.new_day)
        rpc.call("evm_setNextBlockTimestamp", at)
        where = f"step {number} ({step.label})"
        try:
            returned: str | None = rpc.call(
                "eth_call", {"from": step.sender, "to": step.to, "data": step.data, "gas": hex(GAS)}, "pending"
            )
            chain_error = None
        except RpcError as exc:
            returned, chain_error = None, exc
        model.now = at
        try:
            outcome = step.model(model)
            refusal = None
        except Exception as exc:  # the model's refusal (Refused), or a model bug: both are reported
            outcome, refusal = None, exc
        if chain_error is not None or refusal is not None:
            _compare_refusals(where, chain_error, refusal)
            assert refusal is not None
            result.refused[getattr(refusal, "error", type(refusal).__name__)] += 1
            model.now = now  # nothing was mined: the views still read the last block's time
            receipt = None
        else:
            if step.returns is not None:
                types, pick = step.returns
                on_chain = decode([types], bytes.fromhex((returned or "0x").removeprefix("0x")))[0]
                _same(where, "return value", on_chain, pick(outcome))
            receipt = _send(rpc, None, step.sender, step.to, step.data, where, check_status=False)
            now = at
            result.accepted[step.kind] += 1
            if step.kind in ("redeem", "last_redemption") and model.supply == 0:
                result.emptied += 1
        if step.label.startswith("approve") or step.label.startswith("a new day"):
            owner, spender = step.sender, _spender(step, customers)
            key = f"{owner},{spender}"
            if key not in allowances:
                allowances[key] = views.allowance(owner, spender)
        if receipt is not None:
            _check_receipt(where, receipt, step, outcome, model, events)
        read = [*compared, *allowances.values()]
        values = _read(rpc, read)
        for view, value in zip(read, values, strict=True):
            _same(where, view.key, value, normal(view.model(model)))
        if log is not None and (number % every == 0 or number == steps):
            log(
                f"[{number}/{steps}] agree: reserve {model.reserve}, supply {model.supply}, "
                f"{sum(result.refused.values())} refused so far"
            )
    rpc.close()
    return result


def _spender(step: Step, customers: list[str]) -> str:
    """The spender of an approve step (the first argument of its calldata)."""
    return Web3.to_checksum_address("0x" + step.data[10 + 24 : 10 + 64])


def _send(
    rpc: Rpc, at: int | None, sender: str, to: str, data: str, where: str, *, check_status: bool = True
) -> dict[str, Any]:
    """Send a transaction (at block time `at`, when given) and wait for its receipt."""
    if at is not None:
        rpc.call("evm_setNextBlockTimestamp", at)
    tx = rpc.call("eth_sendTransaction", {"from": sender, "to": to, "data": data, "gas": hex(GAS)})
    deadline = time.monotonic() + 30
    while (receipt := rpc.call("eth_getTransactionReceipt", tx)) is None:
        if time.monotonic() > deadline:
            raise CheckFailed(f"{where}: transaction {tx} was not mined within 30 s")
        time.sleep(0.001)
    if check_status and receipt["status"] != "0x1":
        raise CheckFailed(f"{where}: transaction {tx} failed")
    result: dict[str, Any] = receipt
    return result


def _same(where: str, what: str, chain: Any, model: Any) -> None:
    if chain != model:
        raise CheckFailed(f"{where}: {what} differs: chain {chain!r}, model {model!r}")


def _compare_refusals(where: str, chain: RpcError | None, model: Exception | None) -> None:
    if model is not None and not isinstance(model, Refused):
        raise CheckFailed(f"{where}: the model failed: {model!r}")
    if chain is None:
        raise CheckFailed(f"{where}: the model refuses it ({model}) but the chain accepts it")
    decoded = decode_custom_error(chain.data) if chain.data else None
    shown = f"{decoded[0]}{decoded[1]}" if decoded else str(chain)
    if model is None:
        raise CheckFailed(f"{where}: the chain refuses it ({shown}) but the model accepts it")
    if decoded is None:
        raise CheckFailed(f"{where}: the chain refuses it without a known error ({chain}); the model: {model}")
    name, args = decoded
    expected = (model.error, normal(model.values))
    if (name, normal(args)) != expected:
        raise CheckFailed(f"{where}: refused differently: chain {name}{normal(args)}, model {expected[0]}{expected[1]}")


def _check_receipt(
    where: str, receipt: dict[str, Any], step: Step, outcome: Any, model: Pool, events: dict[str, Any]
) -> None:
    if receipt.get("status") != "0x1":
        raise CheckFailed(f"{where}: the transaction failed on chain though its call succeeded: {receipt}")
    if step.event is None:
        return
    name, expected = step.event(outcome, model)
    found = []
    for entry in receipt["logs"]:
        topic = entry["topics"][0] if entry["topics"] else None
        if topic in events and events[topic][0] == name:
            found.append(normal(decode(events[topic][1], bytes.fromhex(entry["data"].removeprefix("0x")))))
    if found != [normal(expected)]:
        raise CheckFailed(f"{where}: event {name}: chain {found!r}, model {[normal(expected)]!r}")
