"""`greenpoints merchant ...`: checkout, quote, status, spend-for, serve (the HTTP gateway), keystore.

The signing key comes from `GREENPOINTS_MERCHANT_KEY` or an encrypted keystore file
(`--keystore FILE` or `GREENPOINTS_MERCHANT_KEYSTORE`; its password from
`GREENPOINTS_MERCHANT_KEYSTORE_PASSWORD` or a prompt), never from an argument. Exit codes: 0 ok,
1 error, 4 refused by the pool (retrying unchanged will not help), 5 not final yet or the node
unreachable (retry the same command: it resumes and never checks out twice).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.args import int_at_least, non_negative
from greenpoints.config import Settings
from greenpoints.errors import ConfigError

if TYPE_CHECKING:
    from merchant.client import MerchantClient
    from merchant.keys import MerchantKey
    from merchant.settings import MerchantSettings

DEFAULT_PORT = 8100


def _merchant_settings() -> MerchantSettings:
    from merchant.settings import load_merchant_settings

    return load_merchant_settings()


def _key(args: argparse.Namespace, ms: MerchantSettings, *, required: bool = True) -> MerchantKey | None:
    import getpass

    from merchant.keys import load_key

    keystore = getattr(args, "keystore", None) or ms.keystore
    if not required and ms.key is None and keystore is None:
        return None
    return load_key(
        key_hex=None if ms.key is None else ms.key.get_secret_value(),
        keystore=keystore,
        password=None if ms.keystore_password is None else ms.keystore_password.get_secret_value(),
        prompt=getpass.getpass if sys.stdin.isatty() else None,
    )


@contextmanager
def _client(args: argparse.Namespace, settings: Settings, *, key_required: bool = True) -> Iterator[MerchantClient]:
    """A client on the configured node, or on the local default chain (an anvil whose state
    persists in .greenpoints/chain-state.json, as for every other command)."""
    from merchant.client import MerchantClient
    from merchant.connect import open_deployment
    from merchant.rpc import Rpc

    ms = _merchant_settings()
    key = _key(args, ms, required=key_required)
    confirmations = getattr(args, "confirmations", None)
    with _node(settings) as url:
        rpc = Rpc(url)
        yield MerchantClient(
            url,
            open_deployment(rpc, settings.deployment),
            key,
            confirmations=ms.confirmations if confirmations is None else confirmations,
            timeout=ms.timeout,
            poll_interval=ms.poll_interval,
            stuck_after=ms.stuck_after,
            priority_fee=ms.priority_fee,
            max_fee=ms.max_fee,
            rpc=rpc,
        )


@contextmanager
def _node(settings: Settings) -> Iterator[str]:
    if settings.rpc_url is not None:
        yield settings.rpc_url
        return
    from greenpoints.anvil import Anvil
    from greenpoints.session import LOCAL_CHAIN_STATE

    with Anvil(state=LOCAL_CHAIN_STATE) as node:
        print(f"local chain: anvil on {node.url} (state in {LOCAL_CHAIN_STATE})", file=sys.stderr)
        yield node.url


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


def _symbol(client: MerchantClient) -> str:
    from merchant import abi

    try:
        return str(client.view.call(abi.SYMBOL, to=client.view.asset))
    except Exception:  # a token without symbol(): say what it is instead
        return "of the reserve asset"


def cmd_checkout(args: argparse.Namespace, settings: Settings) -> None:
    with _client(args, settings) as client:
        checkout = client.checkout(args.customer, args.amount, args.order)
        if args.json:
            _print_json(checkout.as_json())
            return
        shown = checkout.as_json()
        head = "was already checked out (nothing sent)" if checkout.replayed else "checked out"
        print(
            f"order {checkout.order_ref} {head}: {shown['points']} points to {checkout.customer}, "
            f"{shown['pool_in']} {_symbol(client)} into the pool"
        )
        print(
            f"  order id {shown['order_id']}\n  tx {checkout.tx_hash} in block {checkout.block_number}"
            f" ({checkout.confirmations} confirmations)"
        )


def cmd_quote(args: argparse.Namespace, settings: Settings) -> None:
    with _client(args, settings, key_required=args.merchant is None) as client:
        quote = client.quote(args.amount, args.merchant)
        if args.json:
            _print_json(quote.as_json())
            return
        shown = quote.as_json()
        symbol = _symbol(client)
        print(f"a sale of {shown['amount']} mints {shown['points']} points; {shown['pool_in']} {symbol} into the pool")


def cmd_status(args: argparse.Namespace, settings: Settings) -> None:
    with _client(args, settings, key_required=args.merchant is None) as client:
        status = client.status(args.order, args.merchant)
        if args.json:
            _print_json(status.as_json())
            return
        if status.checkout is None:
            print(f"order {args.order} is not checked out by {status.merchant} (order id 0x{status.order_id.hex()})")
            return
        c = status.checkout.as_json()
        print(
            f"order {args.order} is checked out: {c['points']} points to {c['customer']} for a sale of {c['amount']}\n"
            f"  tx {c['tx_hash']} in block {c['block_number']} ({c['confirmations']} confirmations)"
        )


def cmd_spend_for(args: argparse.Namespace, settings: Settings) -> None:
    from merchant.permission_file import SpendPermission

    permission = SpendPermission.load(args.permission)
    with _client(args, settings) as client:
        spend = client.spend_for(permission)
        if args.json:
            _print_json(spend.as_json())
            return
        shown = spend.as_json()
        head = "were already spent (nothing sent)" if spend.replayed else "spent"
        print(f"{shown['points']} points of {spend.holder} {head} for order id {shown['order_id']}")
        print(f"  tx {spend.tx_hash} in block {spend.block_number}")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    from merchant.gateway.service import ServeOptions, serve
    from merchant.settings import load_gateway_settings

    gateway = load_gateway_settings()
    database_url = gateway.require_complete(settings.database_url)
    if settings.rpc_url is None:
        raise ConfigError("the gateway needs a node that outlives it: set GREENPOINTS_RPC_URL (or --rpc)")
    ms = _merchant_settings()
    key = _key(args, ms)
    assert key is not None
    options = ServeOptions(settings.rpc_url, settings.deployment, database_url, args.host, args.port)
    serve(options, key, ms, gateway)


def cmd_keystore(args: argparse.Namespace, settings: Settings) -> None:
    import getpass

    from merchant.keys import key_from_hex, write_keystore

    ms = _merchant_settings()
    if ms.key is None:
        raise ConfigError("set GREENPOINTS_MERCHANT_KEY to the key to encrypt")
    if ms.keystore_password is not None:
        password = ms.keystore_password.get_secret_value()
    elif sys.stdin.isatty():
        password = getpass.getpass("new keystore password: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the passwords differ")
    else:
        raise ConfigError("set GREENPOINTS_MERCHANT_KEYSTORE_PASSWORD or run on a terminal")
    if args.out.exists():
        raise ConfigError(f"{args.out} exists; choose a new file")
    address = key_from_hex(ms.key.get_secret_value()).address
    write_keystore(ms.key.get_secret_value(), password, args.out)
    print(f"wrote {args.out} (merchant {address}); you can now unset GREENPOINTS_MERCHANT_KEY")


def _port(text: str) -> int:
    value = int_at_least(1)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is at most 65535 (got {value})")
    return value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    keyed = argparse.ArgumentParser(add_help=False)
    keyed.add_argument(
        "--keystore",
        type=Path,
        help="encrypted keystore file with the merchant key (default: GREENPOINTS_MERCHANT_KEY or _KEYSTORE)",
    )
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print the result as JSON")

    merchant = sub.add_parser(
        "merchant", parents=[common], help="check out sales, quote, spend for holders, serve the gateway"
    )
    commands = merchant.add_subparsers(dest="merchant_command", required=True, metavar="MERCHANT_COMMAND")

    p = commands.add_parser(
        "checkout", parents=[common, keyed, output], help="mint points for a sale (a retry never mints twice)"
    )
    p.add_argument("--customer", required=True, help="the customer's address")
    p.add_argument("--amount", required=True, help="the sale amount in whole units of the reserve asset: 12000.00")
    p.add_argument("--order", required=True, help="your order reference (the on-chain id is its keccak256)")
    p.add_argument(
        "--confirmations",
        type=non_negative,
        help="blocks on top before it is final (default GREENPOINTS_MERCHANT_CONFIRMATIONS)",
    )
    p.set_defaults(run=cmd_checkout)

    p = commands.add_parser("quote", parents=[common, keyed, output], help="what a checkout would mint now")
    p.add_argument("--amount", required=True, help="the sale amount in whole units of the reserve asset")
    p.add_argument("--merchant", help="the merchant's address (default: the key's)")
    p.set_defaults(run=cmd_quote)

    p = commands.add_parser("status", parents=[common, keyed, output], help="whether an order is checked out")
    p.add_argument("--order", required=True, help="your order reference")
    p.add_argument("--merchant", help="the merchant's address (default: the key's)")
    p.set_defaults(run=cmd_status)

    p = commands.add_parser(
        "spend-for", parents=[common, keyed, output], help="spend a holder's points with their signed permission"
    )
    p.add_argument("--permission", required=True, type=Path, help="the permission JSON file (see merchant/README.md)")
    p.set_defaults(run=cmd_spend_for)

    p = commands.add_parser("serve", parents=[common, keyed], help="run the HTTP gateway (POST /v1/checkouts)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("keystore", parents=[common], help="encrypt GREENPOINTS_MERCHANT_KEY into a keystore file")
    p.add_argument("--out", required=True, type=Path, help="the new keystore file")
    p.set_defaults(run=cmd_keystore)
