"""The main job (`demo`), the SPEC §2 walkthrough (`walkthrough`) and a local chain (`chain`).

Their work is in `cli.walkthrough_job` and the other `cli` modules, imported only when a command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.args import non_negative, positive
from greenpoints.config import Settings


def cmd_walkthrough(args: argparse.Namespace, settings: Settings) -> None:
    from cli.walkthrough_job import run_walkthrough_job

    run_walkthrough_job(settings, orders=args.orders, seed=args.seed)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "walkthrough",
        parents=[common],
        help="the SPEC §2 examples step by step on a fresh local chain, a simulation, then index and audit",
    )
    p.add_argument("--orders", type=positive, default=40, help="actions in the simulation (default 40)")
    p.add_argument("--seed", type=non_negative, default=7, help="random seed (default 7)")
    p.set_defaults(run=cmd_walkthrough)
