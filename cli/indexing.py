"""Commands of the indexer: index, audit, db, resync."""

from __future__ import annotations

import argparse
from typing import Any

from cli.args import non_negative
from greenpoints.config import Settings


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


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "index", parents=[common], help="mirror the pool's events into PostgreSQL (GREENPOINTS_DATABASE_URL)"
    )
    p.add_argument("--once", action="store_true", help="catch up to head - confirmations and exit")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser(
        "audit", parents=[common], help="compare the mirror with the chain at the indexed block (exit 1 on differences)"
    )
    p.set_defaults(run=cmd_audit)

    p = sub.add_parser("db", parents=[common], help="migrate the indexer's database schema")
    p.add_argument("action", choices=("upgrade", "downgrade"))
    p.add_argument("revision", nargs="?", help="target revision (default: head for upgrade, base for downgrade)")
    p.set_defaults(run=cmd_db)

    p = sub.add_parser(
        "resync", parents=[common], help="after a deep reorg: drop the mirror above a block and clear the halt"
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--from-block", type=non_negative, help="keep rows up to this block, re-index above it")
    where.add_argument("--from-deployment", action="store_true", help="drop everything and re-index from the start")
    p.set_defaults(run=cmd_resync)
