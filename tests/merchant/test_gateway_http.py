"""The gateway's HTTP contract against a real `greenpoints merchant serve`, anvil and PostgreSQL:
idempotency keys, tokens, problem documents, and signed webhooks with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from greenpoints.artifacts import abi as compiled_abi
from merchant.webhooks import WebhookSignatureError, signature_header, verify
from tests.merchant.gateway import TOKEN, WEBHOOK_SECRET, Chain, Gateway, WebhookReceiver, chain, database
from tests.merchant.helpers import assert_no_key, checkout_events

__all__ = ["chain", "database"]  # module fixtures


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(
    chain: Chain, database: str, receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    gw = Gateway(
        chain,
        database,
        tmp_path_factory.mktemp("gateway-logs"),
        gateway_webhook_url=receiver.url,
        gateway_webhook_secret=WEBHOOK_SECRET,
        gateway_webhook_backoff="0.3",
    )
    gw.start()
    yield gw
    gw.stop()


def _body(chain: Chain, ref: str, amount: str = "12000.00", customer: int = 0) -> dict[str, str]:
    return {"customer": chain.w3.eth.accounts[5 + customer], "amount": amount, "order_ref": ref}


def _is_problem(response: requests.Response, status: int, kind: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, object] = response.json()
    assert problem["type"] == f"urn:greenpoints:problem:{kind}" and problem["status"] == status
    assert isinstance(problem["detail"], str) and problem["detail"]
    return problem


def _deliveries(receiver: WebhookReceiver, key: str, timeout: float = 15) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r.json() for r in receiver.delivered() if r.json()["data"]["idempotency_key"] == key]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no webhook delivered for {key}")


def test_a_checkout_goes_final_on_chain_and_its_webhook_is_signed(
    gateway: Gateway, chain: Chain, receiver: WebhookReceiver
) -> None:
    response = gateway.post(_body(chain, "H-1"), "key-h1")
    assert response.status_code == 202 and response.headers["location"] == "/v1/checkouts/key-h1"
    accepted = response.json()
    assert accepted["state"] == "accepted" and accepted["amount"] == "12000" and accepted["tx_hash"] is None
    final = gateway.wait_state("key-h1", {"final"})
    (event,) = checkout_events(chain.w3, chain.deployment.pool, final["merchant"], "H-1")
    assert (final["tx_hash"], final["block_number"]) == (event.tx_hash, event.block_number)
    assert (final["points"], final["pool_in"]) == ("1260", "540")  # the sofa store's article sale
    (hook,) = _deliveries(receiver, "key-h1")
    assert hook["type"] == "checkout.final" and hook["data"] == final
    delivery = next(r for r in receiver.delivered() if r.json()["id"] == hook["id"])
    assert delivery.verified and delivery.event_id == hook["id"]
    secret = WEBHOOK_SECRET.encode()
    verify(secret, delivery.signature, delivery.body)
    # The recipe by hand, as a receiver in another language does it: HMAC-SHA256 of "<t>.<body>".
    parts = dict(part.split("=", 1) for part in delivery.signature.split(","))
    mac = hmac.new(secret, parts["t"].encode() + b"." + delivery.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, parts["v1"])
    tampered = delivery.body.replace(b'"points":"1260"', b'"points":"9999"')
    assert tampered != delivery.body
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(secret, delivery.signature, tampered)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(b"another-secret-0123", delivery.signature, delivery.body)
    # Replayed later than the tolerance, even unchanged, it is refused.
    with pytest.raises(WebhookSignatureError, match="from now"):
        verify(secret, delivery.signature, delivery.body, now=time.time() + 301)
    with pytest.raises(WebhookSignatureError, match="malformed"):
        verify(secret, "v1=" + parts["v1"], delivery.body)


def test_the_same_key_and_request_answer_the_same_checkout(gateway: Gateway, chain: Chain) -> None:
    first = gateway.post(_body(chain, "H-2", "250.5"), "key-h2")
    assert first.status_code == 202
    final = gateway.wait_state("key-h2", {"final"})
    # The same request, written differently: trailing zeros, the address in lower case.
    body = _body(chain, "H-2", "250.500")
    body["customer"] = body["customer"].lower()
    for _ in range(3):
        again = gateway.post(body, "key-h2")
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == final
    assert len(checkout_events(chain.w3, chain.deployment.pool, final["merchant"], "H-2")) == 1


def test_the_same_key_with_another_request_is_refused(gateway: Gateway, chain: Chain) -> None:
    assert gateway.post(_body(chain, "H-3", "10"), "key-h3").status_code == 202
    before = gateway.wait_state("key-h3", {"final"})
    for changed in (_body(chain, "H-3", "11"), _body(chain, "H-3x", "10"), _body(chain, "H-3", "10", customer=1)):
        problem = _is_problem(gateway.post(changed, "key-h3"), 422, "idempotency-key-reused")
        assert "different request" in str(problem["detail"])
    assert gateway.get("key-h3").json() == before


def test_another_key_for_a_live_order_is_a_conflict(gateway: Gateway, chain: Chain) -> None:
    assert gateway.post(_body(chain, "H-4"), "key-h4").status_code == 202
    _is_problem(gateway.post(_body(chain, "H-4"), "key-h4-bis"), 409, "order-ref-taken")
    _is_problem(gateway.get("key-h4-bis"), 404, "not-found")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer "},
    ],
)
def test_a_missing_or_wrong_token_is_401(gateway: Gateway, chain: Chain, headers: dict[str, str]) -> None:
    response = requests.post(
        gateway.url + "/v1/checkouts",
        json=_body(chain, "H-5"),
        headers={"Idempotency-Key": "key-h5", **headers},
        timeout=10,
    )
    _is_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    _is_problem(requests.get(gateway.url + "/v1/checkouts/key-h5", headers=headers, timeout=10), 401, "unauthorized")
    _is_problem(gateway.get("key-h5"), 404, "not-found")  # nothing was stored


def test_no_idempotency_key_is_400(gateway: Gateway, chain: Chain) -> None:
    _is_problem(gateway.post(_body(chain, "H-6"), None), 400, "idempotency-key-missing")
    _is_problem(gateway.post(_body(chain, "H-6"), "has space"), 400, "idempotency-key-malformed")
    _is_problem(gateway.post(_body(chain, "H-6"), "k" * 256), 400, "idempotency-key-malformed")


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"customer": "0x', "body"),
        ("[1, 2]", "body"),
        ('{"customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": 12000, "order_ref": "Q"}', "amount"),
        ({"customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "order_ref": "Q"}, "amount"),
        (
            {"customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": "1", "order_ref": "Q", "tip": "1"},
            "tip",
        ),
        ({"customer": "0x976EA74026", "amount": "1", "order_ref": "Q"}, "customer"),
        ({"customer": "0x976ea74026E726554dB657fA54763abd0C3a0aa9", "amount": "1", "order_ref": "Q"}, "customer"),
        ({"customer": "0x" + "0" * 40, "amount": "1", "order_ref": "Q"}, "customer"),
        ({"customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": "1.0000001", "order_ref": "Q"}, "amount"),
        ({"customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": "0", "order_ref": "Q"}, "amount"),
        ({"customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": "-1", "order_ref": "Q"}, "amount"),
        ({"customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": "1", "order_ref": "Q\n"}, "order_ref"),
        ({"customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": "1", "order_ref": ""}, "order_ref"),
    ],
)
def test_malformed_json_or_fields_are_422_problems(gateway: Gateway, body: object, field: str) -> None:
    problem = _is_problem(gateway.post(body, "key-bad"), 422, "invalid-request")
    assert [e["field"] for e in problem["errors"]] == [field]  # type: ignore[union-attr, index]
    _is_problem(gateway.get("key-bad"), 404, "not-found")


def test_a_refused_checkout_fails_with_its_reason_and_frees_its_order(
    gateway: Gateway, chain: Chain, receiver: WebhookReceiver
) -> None:
    # 0.000001 at 15 % skims nothing: the pool refuses to mint zero points.
    assert gateway.post(_body(chain, "H-7", "0.000001"), "key-h7").status_code == 202
    failed = gateway.wait_state("key-h7", {"failed", "final"})
    assert failed["state"] == "failed" and failed["error"]["code"] == "sale_too_small", failed
    (hook,) = _deliveries(receiver, "key-h7")
    assert hook["type"] == "checkout.failed" and hook["data"] == failed
    assert checkout_events(chain.w3, chain.deployment.pool, failed["merchant"], "H-7") == []
    assert gateway.post(_body(chain, "H-7", "7"), "key-h7-retry").status_code == 202
    assert gateway.wait_state("key-h7-retry", {"final", "failed"})["state"] == "final"


def test_a_webhook_is_retried_with_backoff_until_it_is_answered(
    gateway: Gateway, chain: Chain, receiver: WebhookReceiver
) -> None:
    with receiver.lock:
        receiver.fail_first["checkout.final"] = 2
    assert gateway.post(_body(chain, "H-8"), "key-h8").status_code == 202
    (hook,) = _deliveries(receiver, "key-h8")
    with receiver.lock:
        tries = [r for r in receiver.received if r.event_id == hook["id"]]
    assert [r.answered for r in tries] == [500, 500, 200]
    assert all(r.verified for r in tries)
    assert {r.body for r in tries} == {tries[0].body}  # the same event, byte for byte
    first_gap, second_gap = tries[1].at - tries[0].at, tries[2].at - tries[1].at
    assert first_gap >= 0.25 and second_gap >= 0.5  # at least 0.3 s, then 0.6 s (±10 %): the wait doubles


def test_signature_header_helpers_agree() -> None:
    header = signature_header(b"k" * 16, 1_700_000_000, b"{}")
    assert verify(b"k" * 16, header, b"{}", now=1_700_000_100) == 1_700_000_000
    # Several v1 values (a secret being rotated): any one that matches is enough.
    rotated = header + ",v1=" + "0" * 64
    assert verify(b"k" * 16, rotated, b"{}", now=1_700_000_000) == 1_700_000_000


def test_health_and_the_openapi_document(gateway: Gateway, chain: Chain, tmp_path: Path) -> None:
    health = requests.get(gateway.url + "/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["worker"] == "running"
    assert health["pool"] == chain.deployment.pool
    doc = requests.get(gateway.url + "/openapi.json", timeout=10).json()
    post = doc["paths"]["/v1/checkouts"]["post"]
    assert {"200", "202", "400", "401", "409", "422"} <= set(post["responses"])
    schemas = doc["components"]["schemas"]
    assert schemas["CheckoutRequest"]["examples"][0]["amount"] == "12000.00"
    assert schemas["Checkout"]["examples"][0]["state"] == "final"
    headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
    assert {"idempotency-key", "authorization"} <= headers
    json.dumps(doc)  # plain JSON


def test_the_key_never_shows_in_the_gateways_arguments_logs_or_answers(gateway: Gateway, chain: Chain) -> None:
    answers = [gateway.post(_body(chain, "H-9"), "key-h9").text, gateway.post("{", "key-h9b").text]
    gateway.wait_state("key-h9", {"final"})
    answers += [gateway.get("key-h9").text, requests.get(gateway.url + "/healthz", timeout=10).text]
    assert gateway.process is not None
    arguments = Path(f"/proc/{gateway.process.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert "merchant serve" in arguments
    for text in [arguments, gateway.logs(), *answers]:
        assert_no_key(text, gateway.key)


def test_a_short_allowance_is_approved_by_the_gateway(gateway: Gateway, chain: Chain) -> None:
    # Another tool with the merchant's account takes the allowance away (and uses a nonce).
    merchant = chain.deployment.merchants[1].address
    asset = chain.w3.eth.contract(address=chain.deployment.asset, abi=compiled_abi("TestStablecoin"))
    chain.w3.eth.wait_for_transaction_receipt(
        asset.functions.approve(chain.deployment.pool, 0).transact({"from": merchant})
    )
    assert gateway.post(_body(chain, "H-10"), "key-h10").status_code == 202
    final = gateway.wait_state("key-h10", {"final", "failed"})
    assert final["state"] == "final", final
    assert asset.functions.allowance(merchant, chain.deployment.pool).call() == 2**256 - 1
    assert "approving the pool" in gateway.logs()
