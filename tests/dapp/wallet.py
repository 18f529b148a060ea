"""A test wallet for the page: an EIP-1193 provider injected by an init script (announced by
EIP-6963 and/or set as `window.ethereum`) whose requests a Python object answers, forwarding to
anvil, whose unlocked accounts sign. It can start on another chain, refuse a request the way a
user's "Reject" does (code 4001), switch and add chains, and change account."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from playwright.sync_api import BrowserContext, Page

RDNS = "org.greenpoints.testwallet"
ICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 20 20'%3E"
    "%3Ccircle cx='10' cy='10' r='9' fill='%23146c32'/%3E%3C/svg%3E"
)

INIT_SCRIPT = """
(() => {
  const listeners = {};
  const provider = {
    isGreenPointsTestWallet: true,
    async request({ method, params }) {
      const answer = await window.__gpWalletRequest(method, params === undefined ? [] : params);
      // Events the wallet raises after answering (chainChanged after a switch).
      for (const [event, value] of answer.emit || []) setTimeout(() => window.__gpWalletEmit(event, value), 0);
      if (answer.error) {
        const error = new Error(answer.error.message);
        error.code = answer.error.code;
        if (answer.error.data !== undefined) error.data = answer.error.data;
        throw error;
      }
      return answer.result;
    },
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
  };
  window.__gpWalletEmit = (event, value) => { for (const fn of listeners[event] || []) fn(value); };
  const mode = __MODE__;
  if (mode !== "6963") window.ethereum = provider;
  if (mode !== "injected") {
    const detail = Object.freeze({
      info: Object.freeze({
        uuid: "6b1c9e3e-0000-4000-8000-000000000001", name: "Test Wallet", icon: __ICON__, rdns: __RDNS__,
      }),
      provider,
    });
    const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
    window.addEventListener("eip6963:requestProvider", announce);
    announce();
  }
})();
"""

NO_NODE = -32603
LOCAL_CHAIN = 31337


@dataclass
class FakeWallet:
    rpc_url: str
    account: str
    chain_id: int = LOCAL_CHAIN
    known_chains: set[int] = field(default_factory=lambda: {LOCAL_CHAIN})
    connected: bool = False
    reject: set[str] = field(default_factory=set)  # methods the user rejects (once each)
    before_send: Callable[[dict[str, Any]], None] | None = None  # runs while the "confirm" dialog is open
    # Like a wallet that estimates gas when its dialog opens: a transaction that turns invalid
    # while the user confirms is then mined and reverts, instead of being refused before sending.
    estimate_early: bool = False
    calls: list[tuple[str, Any]] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    added: list[dict[str, Any]] = field(default_factory=list)
    page: Page | None = None

    def install(self, context: BrowserContext, mode: str = "both") -> None:
        script = (
            INIT_SCRIPT.replace("__MODE__", json.dumps(mode))
            .replace("__ICON__", json.dumps(ICON))
            .replace("__RDNS__", json.dumps(RDNS))
        )
        context.expose_function("__gpWalletRequest", self.handle)
        context.add_init_script(script)

    def sent(self) -> list[Any]:
        return [params for method, params in self.calls if method == "eth_sendTransaction"]

    def emit(self, event: str, value: Any) -> None:
        assert self.page is not None
        self.page.evaluate("([e, v]) => window.__gpWalletEmit(e, v)", [event, value])

    def change_account(self, account: str) -> None:
        self.account = account
        self.emit("accountsChanged", [account])

    def handle(self, method: str, params: Any) -> dict[str, Any]:
        self.calls.append((method, params))
        if method in self.reject:
            self.reject.discard(method)
            return {"error": {"code": 4001, "message": "User rejected the request."}}
        if method == "eth_chainId":
            return {"result": hex(self.chain_id)}
        if method == "eth_accounts":
            return {"result": [self.account] if self.connected else []}
        if method == "eth_requestAccounts":
            self.connected = True
            return {"result": [self.account]}
        if method == "wallet_switchEthereumChain":
            wanted = int(params[0]["chainId"], 16)
            if wanted not in self.known_chains:
                return {"error": {"code": 4902, "message": f"Unrecognized chain ID {hex(wanted)}."}}
            return self._switch(wanted)
        if method == "wallet_addEthereumChain":
            spec = params[0]
            self.added.append(spec)
            self.known_chains.add(int(spec["chainId"], 16))
            return self._switch(int(spec["chainId"], 16))
        if self.chain_id != LOCAL_CHAIN:
            return {"error": {"code": NO_NODE, "message": f"the test wallet has no node for chain {self.chain_id}"}}
        if method == "eth_sendTransaction":
            tx = dict(params[0])
            if tx.get("from", "").lower() != self.account.lower():
                return {"error": {"code": 4100, "message": "the requested account is not authorised"}}
            # A wallet estimates the gas and refuses to send what would revert; when it estimated
            # early, the hook's change lands after the estimate and the transaction reverts mined.
            if self.estimate_early and "gas" not in tx:
                refused = self._estimate(tx)
                if refused:
                    return refused
            if self.before_send is not None:
                hook, self.before_send = self.before_send, None
                hook(tx)
            if "gas" not in tx:
                refused = self._estimate(tx)
                if refused:
                    return refused
            answer = self._forward(method, [tx])
            if "result" in answer:
                self.hashes.append(answer["result"])
            return answer
        return self._forward(method, params)

    def _estimate(self, tx: dict[str, Any]) -> dict[str, Any] | None:
        estimate = self._forward("eth_estimateGas", [tx])
        if "error" in estimate:
            return estimate
        tx["gas"] = estimate["result"]
        return None

    def _switch(self, chain_id: int) -> dict[str, Any]:
        changed = chain_id != self.chain_id
        self.chain_id = chain_id
        return {"result": None, "emit": [["chainChanged", hex(chain_id)]] if changed else []}

    def _forward(self, method: str, params: Any) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer = requests.post(self.rpc_url, json=body, timeout=30).json()
        if "error" in answer:
            return {"error": answer["error"]}
        return {"result": answer.get("result")}
