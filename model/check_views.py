"""What the check compares after every step: each public view of the pool and the token, read on
chain (one batched `eth_call` each) and computed by the model, as the same Python values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from web3.contract import Contract

from model.pool import Pool


def normal(value: Any) -> Any:
    """One form for both sides: addresses lowercased, tuples of normal values."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, tuple | list):
        return tuple(normal(v) for v in value)
    return value


def decode_static(types: tuple[str, ...], result: str) -> tuple[Any, ...]:
    """ABI-decode static return values (uintN, bool, address) from hex, already `normal`: eth_abi's
    general decoder costs ~0.1 ms a value, which a check of many views a step would feel."""
    text = result.removeprefix("0x")
    if len(text) < 64 * len(types):
        raise ValueError(f"return data too short for {types}: {result!r}")
    out: list[Any] = []
    for i, kind in enumerate(types):
        word = text[64 * i : 64 * (i + 1)]
        if kind.startswith("uint"):
            out.append(int(word, 16))
        elif kind == "bool":
            out.append(int(word, 16) != 0)
        elif kind == "address":
            out.append("0x" + word[24:].lower())
        else:
            return tuple(normal(v) for v in decode(list(types), bytes.fromhex(text)))
    return tuple(out)


@dataclass(frozen=True)
class View:
    """One figure: `key` names it, (`to`, `data`) read it on chain, `model` computes it."""

    key: str
    to: str
    data: str
    types: tuple[str, ...]
    model: Callable[[Pool], Any]

    def decode(self, result: str) -> Any:
        values = decode_static(self.types, result)
        return values[0] if len(values) == 1 else values


class Views:
    """Builds (and caches) the views for the accounts, merchants, allowances and collectors in play."""

    def __init__(self, pool: Contract, token: Contract) -> None:
        self.pool, self.token = pool, token
        self._cache: dict[str, View] = {}

    def _view(self, key: str, contract: Contract, fn: str, args: tuple[Any, ...], model: Callable[[Pool], Any]) -> View:
        view = self._cache.get(key)
        if view is None:
            function = contract.get_function_by_name(fn)(*args)
            types = tuple(output["type"] for output in function.abi["outputs"])
            view = View(key, contract.address, function._encode_transaction_data(), types, model)
            self._cache[key] = view
        return view

    def pool_views(self) -> list[View]:
        p, t = self.pool, self.token
        return [
            self._view("reserve", p, "reserve", (), lambda m: m.reserve),
            self._view("totalSupply", t, "totalSupply", (), lambda m: m.supply),
            self._view("price", p, "price", (), lambda m: m.price()),
            self._view("taxAccrued", p, "taxAccrued", (), lambda m: m.tax_accrued),
            self._view("taxCollector", p, "taxCollector", (), lambda m: normal(m.tax_collector)),
            self._view("feeBps", p, "feeBps", (), lambda m: m.fee_bps),
            self._view("taxBps", p, "taxBps", (), lambda m: m.tax_bps),
            self._view("poolShareBps", p, "poolShareBps", (), lambda m: m.pool_share_bps),
            self._view("globalDailyCap", p, "globalDailyCap", (), lambda m: m.global_daily_cap),
            self._view("globalMintedToday", p, "globalMintedToday", (), lambda m: m.global_minted_today()),
            self._view("paused", p, "paused", (), lambda m: m.paused),
        ]

    def balance(self, account: str) -> View:
        return self._view(f"balanceOf({account})", self.token, "balanceOf", (account,), lambda m: m.balance_of(account))

    def merchant(self, account: str) -> View:
        return self._view(f"merchant({account})", self.pool, "merchant", (account,), lambda m: m.merchant(account))

    def tax_owed(self, account: str) -> View:
        return self._view(f"taxOwed({account})", self.pool, "taxOwed", (account,), lambda m: m.tax_owed(account))

    def nonce(self, account: str) -> View:
        return self._view(f"nonces({account})", self.pool, "nonces", (account,), lambda m: m.nonces.get(account, 0))

    def allowance(self, owner: str, spender: str) -> View:
        return self._view(
            f"allowance({owner},{spender})",
            self.token,
            "allowance",
            (owner, spender),
            lambda m: m.allowance(owner, spender),
        )
