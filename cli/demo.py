"""The `demo` command (the main job); its work is in `cli.demo_job`, imported only when it runs."""

from __future__ import annotations

import argparse
from typing import Any

from cli.args import non_negative, positive
from greenpoints.config import Settings


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from cli.demo_job import run_demo

    run_demo(settings, orders=args.orders, seed=args.seed)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo", parents=[common], help="the main job: a fresh local chain, deploy, the SPEC examples, a simulation"
    )
    p.add_argument("--orders", type=positive, default=40, help="actions in the simulation (default 40)")
    p.add_argument("--seed", type=non_negative, default=7, help="random seed (default 7)")
    p.set_defaults(run=cmd_demo)
