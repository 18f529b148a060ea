"""The `greenpoints` command line: build, deploy, simulate, verify-bundle, the demo, and the indexer
(index, audit, db, resync).

Exit codes: 0 ok, 1 error (or an audit difference), 3 the indexer is halted by a deep reorg.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from greenpoints.config import Settings, load_settings
from greenpoints.errors import GreenPointsError


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least `minimum`, refused with one clear line otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum} (got {value})")
        return value

    return parse


_positive = _int_at_least(1)
_non_negative = _int_at_least(0)


def cmd_build(args: argparse.Namespace, settings: Settings) -> None:
    from greenpoints.build import build

    for path in build(force=args.force):
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


def cmd_deploy(args: argparse.Namespace, settings: Settings) -> None:
    from greenpoints.build import build
    from greenpoints.deploy import deploy
    from greenpoints.session import deployment_path, open_chain

    build()
    with open_chain(settings) as w3:
        deployment = deploy(w3, asset=args.asset, asset_decimals=args.asset_decimals)
        path = deployment.save(deployment_path(settings, deployment.chain_id))
        print(f"wrote {path}")


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> None:
    from greenpoints.session import open_chain, open_deployment
    from greenpoints.simulate import simulate

    with open_chain(settings) as w3:
        deployment = open_deployment(settings, w3)
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


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from greenpoints.demo import run_demo

    run_demo(settings, orders=args.orders, seed=args.seed)


def cmd_index(args: argparse.Namespace, settings: Settings) -> None:
    from indexer.worker import start_early

    # Started first: the worker reads the backfill's first batches while the rest starts up.
    early_worker = start_early(settings)
    try:
        from indexer.errors import IndexerError, IndexerHalted
        from indexer.runner import EXIT_HALTED, EXIT_OK
        from indexer.service import index

        code = index(settings, once=args.once, early_worker=early_worker)
    finally:
        if early_worker is not None:
            early_worker.stop()
    if code == EXIT_HALTED:
        raise IndexerHalted("indexing stopped: halted by a reorg deeper than the kept window (see the log)")
    if code != EXIT_OK:
        raise IndexerError("indexing stopped after an error (see the log)")


def cmd_audit(args: argparse.Namespace, settings: Settings) -> None:
    from indexer.service import run_audit

    run_audit(settings)


def cmd_db(args: argparse.Namespace, settings: Settings) -> None:
    from indexer.service import db_command

    db_command(settings, args.action, args.revision or ("head" if args.action == "upgrade" else "base"))


def cmd_resync(args: argparse.Namespace, settings: Settings) -> None:
    from indexer.service import run_resync

    run_resync(settings, None if args.from_deployment else args.from_block)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="greenpoints", description=__doc__)
    parser.add_argument("--rpc", dest="rpc_url", help="JSON-RPC URL (default: GREENPOINTS_RPC_URL, else a local anvil)")
    parser.add_argument("--deployment", type=Path, help="deployment file (default: deployments/<chainId>.json)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="compile the contracts into artifacts/")
    p.add_argument("--force", action="store_true", help="recompile even if the sources did not change")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("deploy", help="deploy the pool and points token; write deployments/<chainId>.json")
    p.add_argument("--asset", help="reserve stablecoin address (default on a local chain: a new test stablecoin)")
    p.add_argument(
        "--asset-decimals",
        type=int,
        choices=(6, 18),
        default=6,
        help="decimals of the test stablecoin on a local chain (default 6)",
    )
    p.set_defaults(run=cmd_deploy)

    p = sub.add_parser("simulate", help="run a random, reproducible workload against a local deployment")
    p.add_argument("--orders", type=_positive, default=50, help="number of actions (default 50)")
    p.add_argument("--seed", type=_non_negative, default=1, help="random seed (default 1)")
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser("verify-bundle", help="write the block-explorer verification inputs of a deployment")
    p.add_argument("--out", type=Path, help="output folder (default verify/<chainId>)")
    p.set_defaults(run=cmd_verify_bundle)

    p = sub.add_parser("demo", help="the main job: a fresh local chain, deploy, the SPEC examples, a simulation")
    p.add_argument("--orders", type=_positive, default=40, help="actions in the simulation (default 40)")
    p.add_argument("--seed", type=_non_negative, default=7, help="random seed (default 7)")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("index", help="mirror the pool's events into PostgreSQL (GREENPOINTS_DATABASE_URL)")
    p.add_argument("--once", action="store_true", help="catch up to head - confirmations and exit")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("audit", help="compare the mirror with the chain at the indexed block (exit 1 on differences)")
    p.set_defaults(run=cmd_audit)

    p = sub.add_parser("db", help="migrate the indexer's database schema")
    p.add_argument("action", choices=("upgrade", "downgrade"))
    p.add_argument("revision", nargs="?", help="target revision (default: head for upgrade, base for downgrade)")
    p.set_defaults(run=cmd_db)

    p = sub.add_parser("resync", help="after a deep reorg: drop the mirror above a block and clear the halt")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--from-block", type=_non_negative, help="keep rows up to this block, re-index above it")
    where.add_argument("--from-deployment", action="store_true", help="drop everything and re-index from the start")
    p.set_defaults(run=cmd_resync)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `greenpoints` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings({"rpc_url": args.rpc_url, "deployment": args.deployment})
        run: Callable[[argparse.Namespace, Settings], None] = args.run
        run(args, settings)
    except GreenPointsError as exc:
        print(f"greenpoints: error: {exc}", file=sys.stderr)
        code: int = getattr(exc, "exit_code", 1)  # 3: the indexer is halted by a deep reorg
        return code
    except KeyboardInterrupt:
        print("greenpoints: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
