"""Commands on the contracts: build, deploy, simulate, verify-bundle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cli.args import duration, non_negative, positive
from greenpoints.config import Settings
from greenpoints.errors import ConfigError, GreenPointsError


def cmd_build(args: argparse.Namespace, settings: Settings) -> None:
    from greenpoints.build import build

    for path in build(force=args.force):
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


def cmd_deploy(args: argparse.Namespace, settings: Settings) -> None:
    from greenpoints.build import build
    from greenpoints.deploy import deploy
    from greenpoints.session import deployment_path, open_chain

    build()
    if args.keystore is not None:
        settings = settings.model_copy(update={"private_key": "0x" + _keystore_key(args.keystore, settings).hex()})
    with open_chain(settings) as w3:
        deployment = deploy(w3, asset=args.asset, asset_decimals=args.asset_decimals, admin_delay=args.admin_delay)
        path = deployment.save(deployment_path(settings, deployment.chain_id))
        print(f"wrote {path}")


def _keystore_key(path: Path, settings: Settings) -> bytes:
    """The deployer key from an encrypted keystore; its password from GREENPOINTS_KEYSTORE_PASSWORD
    or, on a terminal, a prompt."""
    import getpass

    from greenpoints.keystore import decrypt_keystore

    password = settings.keystore_password
    if password is None:
        if not sys.stdin.isatty():
            hint = "set GREENPOINTS_KEYSTORE_PASSWORD or run on a terminal"
            raise ConfigError(f"keystore {path} needs a password: {hint}")
        password = getpass.getpass(f"password for keystore {path}: ")
    return decrypt_keystore(path, password)


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> None:
    from greenpoints.session import open_chain, open_deployment
    from greenpoints.simulate import simulate

    with open_chain(settings) as w3:
        deployment = open_deployment(settings, w3)
        if args.check:
            from model.check import check

            checked = check(w3, deployment, args.orders, args.seed)
            print(f"model and chain agree over {checked.steps} steps: {checked.describe()}")
            return
        result = simulate(w3, deployment, args.orders, args.seed)
        done = ", ".join(f"{count} {action}" for action, count in sorted(result.counts.items()))
        print(f"simulated {args.orders} actions: {done}")


def cmd_verify_bundle(args: argparse.Namespace, settings: Settings) -> None:
    from greenpoints.deployment import load_deployment
    from greenpoints.verify import write_bundle

    path = settings.deployment
    if path is None:
        raise GreenPointsError("name the deployment file: --deployment deployments/<chainId>.json")
    deployment = load_deployment(path)
    out = args.out or Path("verify") / str(deployment.chain_id)
    for written in write_bundle(deployment, out):
        print(f"wrote {written}")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("build", parents=[common], help="compile the contracts into artifacts/")
    p.add_argument("--force", action="store_true", help="recompile even if the sources did not change")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser(
        "deploy", parents=[common], help="deploy the pool and points token; write deployments/<chainId>.json"
    )
    p.add_argument("--asset", help="reserve stablecoin address (default on a local chain: a new test stablecoin)")
    p.add_argument(
        "--asset-decimals",
        type=int,
        choices=(6, 18),
        default=6,
        help="decimals of the test stablecoin on a local chain (default 6)",
    )
    p.add_argument(
        "--admin-delay",
        type=duration,
        help="delay of parameter changes through the timelock, e.g. 172800, 90m, 2d"
        " (default: 0 on a local chain, 2d elsewhere)",
    )
    p.add_argument(
        "--keystore",
        type=Path,
        help="the deployer key from this encrypted keystore file (password: GREENPOINTS_KEYSTORE_PASSWORD or a prompt)",
    )
    p.set_defaults(run=cmd_deploy)

    p = sub.add_parser(
        "simulate", parents=[common], help="run a random, reproducible workload against a local deployment"
    )
    p.add_argument("--orders", type=positive, default=50, help="number of actions (default 50)")
    p.add_argument("--seed", type=non_negative, default=1, help="random seed (default 1)")
    p.add_argument(
        "--check",
        action="store_true",
        help="run the actions both on chain and in the economics model; fail on the first difference",
    )
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser(
        "verify-bundle", parents=[common], help="write the block-explorer verification inputs of a deployment"
    )
    p.add_argument("--out", type=Path, help="output folder (default verify/<chainId>)")
    p.set_defaults(run=cmd_verify_bundle)
