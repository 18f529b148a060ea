"""The `greenpoints` command line.

Every command accepts the global options `--rpc` and `--deployment` before or after its name.
Exit codes: 0 ok, 1 error (or an audit difference), 2 bad usage, 3 the indexer is halted by a
deep reorg, 4 a merchant operation refused by the pool, 5 a merchant operation not final yet or
the node unreachable (retry it), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from cli import api, contracts, demo, indexing, merchant, model
from greenpoints.config import Settings, load_settings
from greenpoints.errors import GreenPointsError

# Each command module adds its subcommands with `register(sub, common)`.
COMMAND_MODULES = (contracts, indexing, merchant, api, demo, model)


class OneLineParser(argparse.ArgumentParser):
    """Reports bad usage as one line (with where to find help) and exit code 2, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """`--rpc` and `--deployment`; on a subcommand they default to "not given", so a value given
    before the command name is not overwritten by the subcommand's default."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--rpc", dest="rpc_url", default=default, help="JSON-RPC URL (default: GREENPOINTS_RPC_URL, else a local anvil)"
    )
    parser.add_argument(
        "--deployment", type=Path, default=default, help="deployment file (default: deployments/<chainId>.json)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="greenpoints", description=__doc__)
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub, common)
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
        code: int = getattr(exc, "exit_code", 1)  # 3: the indexer is halted; 4, 5: merchant refusals, retries
        return code
    except KeyboardInterrupt:
        print("greenpoints: interrupted", file=sys.stderr)
        return 130
    return 0
