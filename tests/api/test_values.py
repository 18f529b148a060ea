"""Every route against a mirror the real indexer filled from a random workload: the values equal
the chain's (eth_call at the block the answer reflects, and the events themselves)."""

from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from greenpoints.chain import contract
from greenpoints.deploy import local_roles
from indexer.candles import INTERVALS
from tests.api.chain import ZERO, block_times, candles, logs, pages, price_series
from tests.api.conftest import Stack


def indexed(stack: Stack) -> int:
    return int(stack.api.json("/v1/pool")["indexed_block"]["number"])


def test_pool_equals_the_chain(stack: Stack) -> None:
    body = stack.api.json("/v1/pool")
    block = body["indexed_block"]["number"]
    pool = contract(stack.w3, "DividendPool", stack.deployment.pool)
    token = contract(stack.w3, "PointsToken", stack.deployment.points_token)
    at = {"block_identifier": block}
    assert body["indexed_block"]["hash"] == stack.w3.eth.get_block(block)["hash"].to_0x_hex()
    assert int(body["reserve"]["raw"]) == pool.functions.reserve().call(**at)
    assert int(body["supply"]["raw"]) == token.functions.totalSupply().call(**at)
    assert int(body["price"]["raw"]) == pool.functions.price().call(**at)
    assert int(body["tax_accrued"]["raw"]) == pool.functions.taxAccrued().call(**at)
    params = body["parameters"]
    assert params["fee_bps"] == pool.functions.feeBps().call(**at)
    assert params["tax_bps"] == pool.functions.taxBps().call(**at)
    assert params["pool_share_bps"] == pool.functions.poolShareBps().call(**at)
    assert params["tax_collector"] == pool.functions.taxCollector().call(**at)
    assert params["paused"] == pool.functions.paused().call(**at)
    assert int(params["global_daily_cap"]["raw"]) == pool.functions.globalDailyCap().call(**at)
    assert int(params["global_minted_today"]["raw"]) == pool.functions.globalMintedToday().call(**at)
    holders = {a for e in logs(stack.w3, stack.deployment, block) if e.name == "Transfer" for a in (e.args["to"],)}
    positive = [h for h in holders - {ZERO} if token.functions.balanceOf(stack.w3.to_checksum_address(h)).call(**at)]
    assert body["holders"] == len(positive)
    threshold = body["fraud_threshold"]
    share, fee = params["pool_share_bps"], params["fee_bps"]
    assert int(threshold["price"]["raw"]) == share * 10_000 * 10**18 // ((10_000 - share) * (10_000 - fee))
    assert threshold["price_above"] == (
        int(body["price"]["raw"]) * int(threshold["denominator"]) > int(threshold["numerator"]) * 10**18
    )
    assert body["lag_blocks"] is not None and body["head_block"] >= block


def test_accounts_now_and_at_past_blocks_equal_balance_of(stack: Stack) -> None:
    block = indexed(stack)
    pool = contract(stack.w3, "DividendPool", stack.deployment.pool)
    token = contract(stack.w3, "PointsToken", stack.deployment.points_token)
    customers = local_roles(stack.w3)["customers"]
    start = stack.deployment.deployment_block  # the first block where the points token has code
    while not stack.w3.eth.get_code(token.address, block_identifier=start):
        start += 1
    past = sorted({start, max(start, block // 4), max(start, block // 2), max(start, (3 * block) // 4), block})
    checked = 0
    for address in customers:
        for at_block in past:
            body = stack.api.json(f"/v1/accounts/{address.lower()}", block=at_block)
            assert body["address"] == address and body["block"] == at_block
            balance = token.functions.balanceOf(address).call(block_identifier=at_block)
            assert int(body["balance"]["raw"]) == balance, (address, at_block)
            if balance:
                payout, tax, kept = pool.functions.quoteRedeem(balance).call(block_identifier=at_block)
                assert int(body["cash_out_value"]["raw"]) == payout
                assert (int(body["cash_out"]["tax"]["raw"]), int(body["cash_out"]["kept"]["raw"])) == (tax, kept)
                checked += 1
        now = stack.api.json(f"/v1/accounts/{address}")
        assert now["indexed_block"]["number"] >= block
    assert checked > len(customers)  # most customers held points at several of those blocks


def test_concurrent_account_lookups_each_get_their_own_answer(stack: Stack) -> None:
    """Lookups sent at once are coalesced into shared statements (`api.lookups`); each answer must
    still be its own holder's at its own block, and a bad block refused without harming the rest."""
    block = indexed(stack)
    token = contract(stack.w3, "PointsToken", stack.deployment.points_token)
    customers = local_roles(stack.w3)["customers"]
    blocks: list[int | None] = [None, block, max(1, block // 2), max(1, block // 3)]
    wanted = [(c, b) for c in customers for b in blocks] * 4
    wanted += [(customers[0], block + 10**6)] * 8  # above the indexed block: a 400 each

    def get(item: tuple[str, int | None]) -> tuple[int, Any]:
        address, at = item
        response = requests.get(
            f"{stack.api.url}/v1/accounts/{address}", params={} if at is None else {"block": at}, timeout=30
        )
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(get, wanted))
    for (address, at), (status, body) in zip(wanted, results, strict=True):
        if at is not None and at > block:
            assert status == 400 and body["field"] == "block"
            continue
        assert status == 200 and body["address"] == address
        assert at is None or body["block"] == at
        assert int(body["balance"]["raw"]) == token.functions.balanceOf(address).call(block_identifier=body["block"])


def test_the_fast_path_answers_as_the_routes_do(stack: Stack) -> None:
    """`api.fastpath` answers the hot requests itself; a request with `Origin` goes through CORS and
    FastAPI's routes instead. Both must give the same status, body and headers (CORS's aside)."""
    customer = local_roles(stack.w3)["customers"][1]
    account = f"/v1/accounts/{customer}"
    first = stack.api.json(f"{account}/activity", limit=2)
    assert first["next_cursor"] is not None  # the workload gives every customer several rows
    block = first["indexed_block"]["number"]
    cases = [
        (account, {}),
        (account.lower(), {"block": block // 2}),
        (f"{account}/activity", {}),
        (f"{account}/activity", {"limit": 2}),
        (f"{account}/activity", {"limit": "3", "cursor": first["next_cursor"]}),
        (f"{account}/activity", {"kind": ["checkout", "redemption"], "limit": 1000}),
        (f"{account}/activity", {"limit": 0}),  # refused: the fast path leaves it to the route
        (f"{account}/activity", {"cursor": first["next_cursor"][:-2] + "AA"}),  # tampered: refused
    ]
    compared = ("content-type", "etag", "x-indexed-block", "vary", "cache-control")
    for path, params in cases:
        for _ in range(20):  # until no block was indexed between the two requests
            fast = stack.api.get(path, **params)
            routed = stack.api.session.get(
                stack.api.url + path, params=params, headers={"Origin": "https://wallet.example"}, timeout=30
            )
            if fast.headers.get("x-indexed-block") == routed.headers.get("x-indexed-block"):
                break
        assert routed.headers["access-control-allow-origin"] == "*"
        assert fast.status_code == routed.status_code, (path, params)
        assert fast.json() == routed.json(), (path, params)
        assert {h: fast.headers.get(h) for h in compared} == {h: routed.headers.get(h) for h in compared}


def test_activity_and_balance_history_equal_the_events(stack: Stack) -> None:
    block = indexed(stack)
    events = logs(stack.w3, stack.deployment, block)
    expected: dict[str, set[tuple[str, int, int]]] = defaultdict(set)
    changes: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for e in events:
        a = e.args
        if e.name == "CheckedOut":
            expected[a["customer"]].add(("checkout", e.block, e.index))
        elif e.name == "Spent":
            expected[a["holder"]].add(("spend", e.block, e.index))
        elif e.name == "Redeemed":
            expected[a["holder"]].add(("redemption", e.block, e.index))
        elif e.name == "PointsBurned":
            expected[a["holder"]].add(("burn", e.block, e.index))
        elif e.name == "Transfer":
            if a["from"] != ZERO and a["to"] != ZERO:
                expected[a["from"]].add(("transfer_out", e.block, e.index))
                if a["to"] != a["from"]:
                    expected[a["to"]].add(("transfer_in", e.block, e.index))
            for party in {a["from"], a["to"]} - {ZERO}:
                changes[party].append((e.block, e.index))
    kinds = Counter(k for items in expected.values() for k, _, _ in items)
    assert set(kinds) == {"checkout", "transfer_out", "transfer_in", "spend", "redemption", "burn"}, kinds
    for holder, items in expected.items():
        got = list(pages(stack.api.json, f"/v1/accounts/{holder}/activity", limit=7))
        got = [i for i in got if i["block_number"] <= block]
        keys = [(i["kind"], i["block_number"], i["log_index"]) for i in got]
        assert set(keys) == items and len(keys) == len(items), holder
        assert [k[1:] for k in keys] == sorted((k[1:] for k in keys), reverse=True)
        only = list(pages(stack.api.json, f"/v1/accounts/{holder}/activity", kind=["spend", "redemption"], limit=50))
        assert {(i["kind"], i["block_number"], i["log_index"]) for i in only if i["block_number"] <= block} == {
            k for k in items if k[0] in ("spend", "redemption")
        }
        history = [
            i
            for i in pages(stack.api.json, f"/v1/accounts/{holder}/balance/history", limit=9)
            if i["block_number"] <= block
        ]
        assert [(i["block_number"], i["log_index"]) for i in history] == sorted(changes[holder], reverse=True)
        token = contract(stack.w3, "PointsToken", stack.deployment.points_token)
        for item in history[:3]:
            at = token.functions.balanceOf(stack.w3.to_checksum_address(holder)).call(
                block_identifier=item["block_number"]
            )
            # The balance after the block's last change equals balanceOf at that block.
            same_block = [i for i in history if i["block_number"] == item["block_number"]]
            assert int(same_block[0]["balance"]["raw"]) == at


def test_price_history_and_candles_equal_the_events(stack: Stack) -> None:
    body = stack.api.json("/v1/pool")
    block, last_time = body["indexed_block"]["number"], body["indexed_block"]["timestamp"]
    events = logs(stack.w3, stack.deployment, block)
    times = block_times(stack.w3, {e.block for e in events})
    series = price_series(events, times, stack.deployment.asset_decimals)
    history = [p for p in pages(stack.api.json, "/v1/price/history", limit=40) if p["block_number"] <= block]
    assert [(p["block_number"], p["log_index"], int(p["price"]["raw"]), p["event"]) for p in reversed(history)] == [
        (p.block, p.index, p.price, p.kind) for p in series
    ]
    assert len({p.time - p.time % 86400 for p in series}) >= 3  # the workload spans several days
    # A block range, paged (the keyset bound and `to_block` meet inside the range).
    lo, hi = series[len(series) // 4].block, series[(3 * len(series)) // 4].block
    ranged = list(pages(stack.api.json, "/v1/price/history", limit=7, from_block=lo, to_block=hi))
    assert [(p["block_number"], p["log_index"]) for p in reversed(ranged)] == [
        (p.block, p.index) for p in series if lo <= p.block <= hi
    ]
    for name, seconds in INTERVALS.items():
        want = candles(series, seconds, last_time)
        got: list[dict[str, object]] = []
        start = want[0][0]
        while True:
            page = stack.api.json("/v1/price/candles", interval=name, **{"from": start}, limit=5000)
            assert page["indexed_block"]["number"] >= block
            got += page["candles"]
            if not page["candles"] or page["candles"][-1]["bucket"]["timestamp"] >= want[-1][0]:
                break
            start = page["candles"][-1]["bucket"]["timestamp"] + seconds
        got = [c for c in got if c["bucket"]["timestamp"] <= want[-1][0]]  # type: ignore[index]
        shown = [
            (c["bucket"]["timestamp"], *(int(c[k]["raw"]) for k in ("open", "high", "low", "close")), c["changes"])  # type: ignore[index]
            for c in got
        ]
        assert shown == want, name
        assert any(c[5] == 0 for c in want) or name == "1d"  # gaps filled with the previous close
    latest = stack.api.json("/v1/price/candles", interval="1h", limit=3)["candles"]
    assert len(latest) == 3 and latest[-1]["bucket"]["timestamp"] == last_time - last_time % 3600


def test_merchants_equal_the_chain(stack: Stack) -> None:
    listing = stack.api.json("/v1/merchants", sort="volume")
    block = listing["indexed_block"]["number"]
    day = datetime.fromtimestamp(listing["indexed_block"]["timestamp"], UTC).date().isoformat()
    pool = contract(stack.w3, "DividendPool", stack.deployment.pool)
    events = logs(stack.w3, stack.deployment, block)
    times = block_times(stack.w3, {e.block for e in events})
    sales = [int(m["totals"]["sales"]["raw"]) for m in listing["items"]]
    assert sales == sorted(sales, reverse=True)
    assert {m["address"] for m in listing["items"]} == {m.address for m in stack.deployment.merchants}
    for item in listing["items"]:
        rate, cap, active, minted_today = pool.functions.merchant(item["address"]).call(block_identifier=block)
        assert (item["rate_bps"], int(item["daily_cap"]["raw"]), item["active"]) == (rate, cap, active)
        assert item["day"] == day and int(item["minted_today"]["raw"]) == minted_today
        mine = [e for e in events if e.name == "CheckedOut" and e.args["merchant"] == item["address"].lower()]
        totals = item["totals"]
        assert int(totals["minted"]["raw"]) == sum(e.args["points"] for e in mine)
        assert int(totals["pool_in"]["raw"]) == sum(e.args["poolIn"] for e in mine)
        assert int(totals["sales"]["raw"]) == sum(e.args["saleAmount"] for e in mine)
        assert totals["checkouts"] == len(mine)
        spent = [e for e in events if e.name == "Spent" and e.args["merchant"] == item["address"].lower()]
        assert int(totals["spent"]["raw"]) == sum(e.args["points"] for e in spent)
        detail = stack.api.json(f"/v1/merchants/{item['address']}")
        assert {k: v for k, v in detail.items() if k not in ("indexed_block", "minted_avg_7d")} == item
        checkouts = [c for c in pages(stack.api.json, f"/v1/merchants/{item['address']}/checkouts", limit=4)]
        checkouts = [c for c in checkouts if c["block_number"] <= block]
        assert [(c["tx_hash"], int(c["points"]["raw"])) for c in checkouts] == [
            (e.tx_hash, e.args["points"]) for e in reversed(mine)
        ]
        per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for e in mine:
            d = datetime.fromtimestamp(times[e.block], UTC).date().isoformat()
            per_day[d][0] += e.args["points"]
            per_day[d][1] += e.args["poolIn"]
            per_day[d][2] += 1
        daily = list(pages(stack.api.json, f"/v1/merchants/{item['address']}/daily", limit=2))
        assert {
            d["day"]: [int(d["minted"]["raw"]), int(d["pool_in"]["raw"]), d["checkouts"]]
            for d in daily
            if d["checkouts"]
        } == dict(per_day)
    revoked = stack.deployment.merchants[-1].address
    assert stack.api.json(f"/v1/merchants/{revoked}")["active"] is False


def test_audit_is_stored_and_served(stack: Stack) -> None:
    body = stack.api.json("/v1/audit")
    assert body["status"] == "ok", body
    latest = body["latest"]
    assert latest["ok"] and latest["source"] == "live" and latest["every"] == 5
    assert latest["block_hash"] == stack.w3.eth.get_block(latest["block_number"])["hash"].to_0x_hex()
    names = {c["name"] for c in latest["checks"]}
    assert {"totalSupply", "reserve()", "taxAccrued()", "price()"} <= names
    assert any(n.startswith("asset.balanceOf(pool) >= reserve + taxAccrued") for n in names)  # SPEC §3.1
    assert all(c["ok"] for c in latest["checks"])
    history = list(pages(stack.api.json, "/v1/audit/history", limit=1))
    assert history[0] == latest and all(h["ok"] for h in history)


def test_conventions_etag_cors_deployment_metrics_docs(stack: Stack) -> None:
    first = stack.api.get("/v1/pool")
    etag = first.headers["ETag"]
    assert first.headers["X-Indexed-Block"] == str(first.json()["indexed_block"]["number"])
    again = stack.api.session.get(stack.api.url + "/v1/pool", headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code in (304, 200)  # 200 only when a block or heartbeat came in between
    if again.status_code == 200:
        assert again.headers["ETag"] != etag
    account = f"/v1/accounts/{local_roles(stack.w3)['customers'][0]}"
    tag = stack.api.get(account).headers["ETag"]
    assert stack.api.session.get(stack.api.url + account, headers={"If-None-Match": tag}).status_code in (304, 200)
    cors = stack.api.session.get(stack.api.url + "/v1/pool", headers={"Origin": "https://wallet.example"})
    assert cors.headers["access-control-allow-origin"] == "*"
    deployment = stack.api.json("/v1/deployment")
    assert deployment["chain_id"] == 31337 and deployment["pool"] == stack.w3.to_checksum_address(stack.deployment.pool)
    assert deployment["asset_decimals"] == stack.deployment.asset_decimals and deployment["points_decimals"] == 18
    assert deployment["timelock"] == stack.w3.to_checksum_address(stack.deployment.timelock)
    assert deployment["admin_delay"] == stack.deployment.admin_delay
    metrics = stack.api.get("/metrics").text
    assert 'greenpoints_api_requests_total{method="GET",route="/v1/pool",status="200"}' in metrics
    assert "greenpoints_api_request_seconds_bucket" in metrics and "greenpoints_mirror_indexed_block" in metrics
    docs = stack.api.get("/docs")
    assert docs.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert stack.api.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    document = stack.api.json("/openapi.json")
    for path, operations in document["paths"].items():
        for operation in operations.values():
            assert operation.get("summary"), path
            assert "422" not in operation["responses"], path


@pytest.mark.parametrize("form", ["lower", "upper", "checksum"])
def test_addresses_in_any_case_answered_checksummed(stack: Stack, form: str) -> None:
    address = local_roles(stack.w3)["customers"][1]
    text = {"lower": address.lower(), "upper": "0x" + address[2:].upper(), "checksum": address}[form]
    assert stack.api.json(f"/v1/accounts/{text}")["address"] == address
