"""`greenpoints model SCENARIO`: the economics model's scenarios, as a report, a CSV and a plot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli.args import non_negative
from greenpoints.config import Settings


def cmd_model(args: argparse.Namespace, settings: Settings) -> None:
    from model.output import report_text, write_csv, write_plot
    from model.scenarios import run_scenario

    result = run_scenario(args.scenario, args.params, args.seed)
    print(report_text(result), end="")
    if args.csv is not None:
        print(f"wrote {write_csv(result, args.csv)}")
    if args.plot is not None:
        print(f"wrote {write_plot(result, args.plot)}")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "model",
        parents=[common],
        help="run an economics scenario (article, fraud) in the pure-Python model of the pool",
        description="Scenarios: article (the article's claims beside the rules), fraud (SPEC §5 fake sales).",
    )
    p.add_argument("scenario", choices=("article", "fraud"), help="which scenario")
    p.add_argument(
        "--params",
        nargs="+",
        default=[],
        metavar="K=V",
        help="parameters over the scenario's defaults, e.g. pool_share_bps=4000 fee_bps=1500 (bounds: the contract's)",
    )
    p.add_argument("--plot", type=Path, help="write the scenario's plots to this PNG file")
    p.add_argument("--csv", type=Path, help="write every recorded step to this CSV file")
    p.add_argument("--seed", type=non_negative, default=1, help="random seed (which customer gets which order)")
    p.set_defaults(run=cmd_model)
