"""Fast checks of the pieces: decoding, deriving rows, the lock, the range splitting, progress."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
import psycopg
import pytest
import requests
from sqlalchemy import Engine, text
from web3 import Web3

from greenpoints.chain import contract, send
from indexer import db
from indexer.copy_text import event_lines
from indexer.decode import ZERO_ADDRESS, Event, decode_logs, layouts
from indexer.derive import PoolSnapshot, derive, holders_of, price_of
from indexer.lock import IndexerLock
from indexer.prepare import prepare_batch
from indexer.progress import Progress
from indexer.reader import Batch
from indexer.rpc import Log, RpcClient
from tests.indexer.conftest import Chain

A = "0x" + "a" * 40
B = "0x" + "b" * 40
M = "0x" + "c" * 40


def word(value: int | str) -> str:
    if isinstance(value, str):
        return value.removeprefix("0x").rjust(64, "0")
    return f"{value:064x}"


def topic_of(name: str) -> str:
    return next(t for t, layout in layouts().items() if layout.name == name)


def raw_log(
    address: str,
    name: str,
    indexed: list[int | str],
    data: list[int | str],
    block: int = 7,
    index: int = 0,
    **replace: Any,
) -> Log:
    """An `eth_getLogs` entry as the node sends it, parsed the way the RPC client parses it
    (the whole answer lowercased, see `indexer.rpc.Log`)."""
    raw = {
        "address": address,
        "topics": [topic_of(name), *("0x" + word(t) for t in indexed)],
        "data": "0x" + "".join(word(d) for d in data),
        "blockNumber": hex(block),
        "blockHash": "0x" + "1" * 64,
        "blockTimestamp": hex(1_700_000_000),
        "transactionHash": "0x" + "2" * 64,
        "logIndex": hex(index),
        "removed": False,
        **replace,
    }
    return msgspec.json.decode(json.dumps(raw).lower(), type=Log)


def test_decode_known_layouts_and_skip_strangers() -> None:
    pool, token = "0x" + "9" * 40, "0x" + "8" * 40
    order = "0x" + "ab" * 32
    big = 2**256 - 1
    logs = [
        raw_log(pool, "CheckedOut", [M, A, order], [5000, 350, 150, 150, big], index=2),
        raw_log(token, "Transfer", [ZERO_ADDRESS, A], [big], index=1),
        raw_log(pool, "MerchantSet", [M], [1000, 10**24, 1], index=3),
        raw_log(pool, "Transfer", [A, B], [1], index=4),  # a token event from the pool: not ours
        raw_log(token, "CheckedOut", [M, A, order], [1, 2, 3, 4, 5], index=5),  # a pool event from the token
        raw_log(token, "Transfer", [A, B], [1], index=6, topics=["0x" + "f" * 64]),  # unknown event
        raw_log(token, "Transfer", [A, B], [1], index=8, removed=True),  # dropped by a reorg
    ]
    events = decode_logs(logs, pool, token)
    assert [(e.name, e.log_index) for e in events] == [("Transfer", 1), ("CheckedOut", 2), ("MerchantSet", 3)]
    transfer, checkout, merchant = events
    assert transfer.args == {"from": ZERO_ADDRESS, "to": A, "value": big}
    assert checkout.args["orderId"] == order and checkout.args["supplyAfter"] == big
    assert checkout.block_time == 1_700_000_000 and checkout.block_number == 7
    assert merchant.args == {"merchant": M, "rateBps": 1000, "dailyCap": 10**24, "active": True}
    # Each event's row for its typed table: parameters in ABI order, uints as decimal text.
    assert checkout.row.split("\t") == [M, A, order, "5000", "350", "150", "150", str(big)]
    assert merchant.row.split("\t") == [M, "1000", str(10**24), "t"]
    assert transfer.row.split("\t") == [ZERO_ADDRESS, A, str(big)]


def test_topics_match_web3_and_the_chain(private_chain: Chain) -> None:
    expected = (
        "0x" + Web3.keccak(text="CheckedOut(address,address,bytes32,uint256,uint256,uint256,uint256,uint256)").hex()
    )
    assert topic_of("CheckedOut") == expected
    # The topic the pool really logs for a checkout is the one the decoder looks for.
    deployment = private_chain.deployment
    pool = contract(private_chain.w3, "DividendPool", deployment.pool)
    merchant = deployment.merchants[0].address
    receipt = send(pool.functions.checkout(deployment.admin, 10**9, Web3.keccak(text="t")), merchant)
    pool_topics = {log["topics"][0].to_0x_hex() for log in receipt["logs"] if log["address"] == deployment.pool}
    assert pool_topics == {expected}


def event(name: str, args: dict[str, Any], block: int, index: int, tx: str = "0x01") -> Event:
    return Event(block, index, "0xh", 86_400 * 3 + block, tx, "0xp", name, args)


def test_derive_balances_pool_states_and_merchant_days() -> None:
    events = [
        event("Transfer", {"from": ZERO_ADDRESS, "to": A, "value": 700}, 1, 0, "0x01"),
        event(
            "CheckedOut",
            {
                "merchant": M,
                "customer": A,
                "orderId": "0x",
                "saleAmount": 10,
                "points": 700,
                "poolIn": 300,
                "reserveAfter": 300,
                "supplyAfter": 700,
            },
            1,
            1,
            "0x01",
        ),
        event("Transfer", {"from": A, "to": B, "value": 200}, 2, 0, "0x02"),
        event("Transfer", {"from": B, "to": B, "value": 5}, 2, 1, "0x03"),  # to oneself: no change
        event("Transfer", {"from": A, "to": ZERO_ADDRESS, "value": 100}, 3, 0, "0x04"),
        event("PointsBurned", {"holder": A, "amount": 100, "reserveAfter": 300, "supplyAfter": 600}, 3, 1, "0x04"),
        event("Transfer", {"from": B, "to": ZERO_ADDRESS, "value": 50}, 4, 0, "0x05"),  # a burn with no pool event
        event(
            "Redeemed",
            {"holder": B, "points": 1, "payout": 0, "tax": 7, "kept": 0, "reserveAfter": 293, "supplyAfter": 549},
            5,
            0,
            "0x06",
        ),
        event("TaxWithdrawn", {"to": M, "amount": 7, "reserveAfter": 293, "supplyAfter": 549}, 6, 0, "0x07"),
    ]
    rows = derive(events, {B: 1}, PoolSnapshot(), 6)
    assert holders_of(events) == {A, B}
    assert rows.balances == {A: 400, B: 151}
    # Per Transfer, in order: the sender's and the receiver's balance after it (None for 0x0).
    assert rows.transfer_balances == [(None, 700), (500, 201), (201, 201), (400, None), (151, None)]
    kinds = [(s[0], s[7], s[4]) for s in rows.pool_states]
    assert kinds == [
        (1, "CheckedOut", 700),
        (3, "PointsBurned", 600),
        (4, "Burn", 550),
        (5, "Redeemed", 549),
        (6, "TaxWithdrawn", 549),
    ]
    assert rows.pool_states[0][6] == price_of(300, 700, 6) == 300 * 10**12 * 10**18 // 700
    # The tax accrued by the redemption and withdrawn after it; the reserve from the events.
    assert [(s[3], s[5]) for s in rows.pool_states[3:]] == [(293, 7), (293, 0)]
    assert rows.last_state == PoolSnapshot(293, 549, 0)
    ((key, totals),) = rows.merchant_daily.items()
    # minted, spent, checkouts, pool-in, sales
    assert key[0] == M and str(key[1]) == "1970-01-04" and totals == [700, 0, 1, 300, 10]
    assert price_of(5, 0, 6) == 0


def test_lock_allows_one_holder(engine: Engine) -> None:
    first = IndexerLock(engine, 1, "0xpool", poll=0.05)
    second = IndexerLock(engine, 1, "0xpool", poll=0.05)
    other = IndexerLock(engine, 2, "0xpool", poll=0.05)
    assert first.try_acquire()
    first.ensure_held()
    assert not second.try_acquire()
    assert not second.acquire(timeout=0.2)
    assert other.try_acquire()  # another chain is another lock
    first.release()
    assert second.acquire(timeout=2)
    second.release()
    other.release()


class _RangeLimitProxy(BaseHTTPRequestHandler):
    """Forwards JSON-RPC to anvil but refuses eth_getLogs ranges over `limit` blocks, like providers do."""

    upstream = ""
    limit = 4
    refused = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if isinstance(body, dict) and body.get("method") == "eth_getLogs":
            params = body["params"][0]
            if int(params["toBlock"], 16) - int(params["fromBlock"], 16) + 1 > self.limit:
                type(self).refused += 1
                answer: Any = {
                    "jsonrpc": "2.0",
                    "id": body["id"],
                    "error": {"code": -32005, "message": "query exceeds max block range 4"},
                }
                return self._send(answer)
        return self._send(requests.post(self.upstream, json=body, timeout=10).json())

    def _send(self, answer: Any) -> None:
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def limited_rpc(private_chain: Chain) -> Iterator[str]:
    _RangeLimitProxy.upstream = private_chain.url
    _RangeLimitProxy.refused = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RangeLimitProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_get_logs_splits_refused_ranges(private_chain: Chain, limited_rpc: str) -> None:
    direct = RpcClient(private_chain.url)
    limited = RpcClient(limited_rpc)
    head = direct.block_number()
    addresses = [private_chain.deployment.pool, private_chain.deployment.points_token]
    expected = direct.get_logs(addresses, 0, head)
    assert expected
    assert limited.get_logs(addresses, 0, head) == expected
    assert limited.log_range_limit is not None and limited.log_range_limit <= 4  # remembered
    refused = _RangeLimitProxy.refused
    assert limited.get_logs(addresses, 0, head) == expected
    assert _RangeLimitProxy.refused == refused  # no more refusals once the size is known


def test_progress_logs_key_value_lines_off_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    progress = Progress(100, 300, stream=stream, every=0)
    with caplog.at_level(logging.INFO, logger="indexer.progress"):
        progress.update(200, 5000)
        progress.finish()
    assert stream.getvalue() == ""
    assert "blocks_done=100 blocks_total=200" in caplog.text
    assert "events=5000" in caplog.text


def test_replayed_rows_are_skipped_on_conflict(engine: Engine) -> None:
    pool, token = "0x" + "9" * 40, "0x" + "8" * 40
    logs = [
        raw_log(token, "Transfer", [ZERO_ADDRESS, A], [10**30], block=5, index=0),
        raw_log(pool, "MerchantSet", [M], [1000, 10**24, 0], block=5, index=1),
        raw_log(token, "Transfer", [A, B], [1], block=6, index=0),
    ]
    events = decode_logs(logs, pool, token)

    def write(batch: list[Event], *, skip_existing: bool = False) -> None:
        read = Batch(5, 6, [], batch, event_lines(9, batch), window_start=0, log_range_limit=None)
        with engine.begin() as conn:
            db.write_prepared(conn, 9, prepare_batch(read, 9, 6, {}, PoolSnapshot()), skip_existing=skip_existing)

    write(events[:2])
    write(events, skip_existing=True)
    with engine.connect() as conn:
        transfers = conn.execute(text("SELECT * FROM transfers ORDER BY block_number, log_index")).all()
        merchants = conn.execute(text("SELECT merchant, rate_bps, daily_cap, active FROM merchant_updates")).all()
    assert [(r.block_number, r.log_index, r.sender, r.receiver) for r in transfers] == [
        (5, 0, ZERO_ADDRESS, A),
        (6, 0, A, B),
    ]
    mint = transfers[0]
    assert (
        int(mint.value) == 10**30 and mint.sender_balance_after is None and int(mint.receiver_balance_after) == 10**30
    )
    assert [tuple(r) for r in merchants] == [(M, 1000, 10**24, False)]
    with pytest.raises(psycopg.errors.UniqueViolation):
        write(events[:1])  # without skip_existing a duplicate key is an error


def test_price_matches_the_contract_for_18_decimal_assets() -> None:
    assert price_of(10**18, 2 * 10**18, 18) == 5 * 10**17
    assert price_of(150 * 10**6, 350 * 10**18, 6) == 150 * 10**6 * 10**12 * 10**18 // (350 * 10**18)
