"""The main job (`demo`), the SPEC §2 walkthrough (`walkthrough`) and a local chain (`chain`).

Their work is in `cli.walkthrough_job` and the other `cli` modules, imported only when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli.args import non_negative, positive
from greenpoints.config import LOCAL_CHAIN_STATE, Settings


def cmd_walkthrough(args: argparse.Namespace, settings: Settings) -> None:
    from cli.walkthrough_job import run_walkthrough_job

    run_walkthrough_job(settings, orders=args.orders, seed=args.seed)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from cli.demo_stack import run_demo

    run_demo(settings)


def cmd_chain(args: argparse.Namespace, settings: Settings) -> None:
    from cli.local_chain import run_chain

    run_chain(port=args.port, chain_id=args.chain_id, state=None if args.fresh else args.state)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="the main job: chain, contracts, indexer, API with the wallet page, merchant gateway and traffic,"
        " until Ctrl-C",
    )
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("chain", parents=[common], help="run a local anvil chain in the foreground until Ctrl-C")
    p.add_argument("--port", type=non_negative, default=8545, help="TCP port (default 8545)")
    p.add_argument("--chain-id", type=positive, default=31337, help="chain id (default 31337, anvil's)")
    p.add_argument(
        "--state", type=Path, default=LOCAL_CHAIN_STATE, help=f"state kept between runs (default {LOCAL_CHAIN_STATE})"
    )
    p.add_argument("--fresh", action="store_true", help="start empty and keep no state")
    p.set_defaults(run=cmd_chain)

    p = sub.add_parser(
        "walkthrough",
        parents=[common],
        help="the SPEC §2 examples step by step on a fresh local chain, a simulation, then index and audit",
    )
    p.add_argument("--orders", type=positive, default=40, help="actions in the simulation (default 40)")
    p.add_argument("--seed", type=non_negative, default=7, help="random seed (default 7)")
    p.set_defaults(run=cmd_walkthrough)
