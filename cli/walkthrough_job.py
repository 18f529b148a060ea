"""`greenpoints walkthrough`: a fresh anvil, deploy, the SPEC §2 examples step by step, a short
simulation, then the indexer's backfill into PostgreSQL and the audit of the mirror against the chain."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from greenpoints.anvil import Anvil
from greenpoints.build import build
from greenpoints.chain import connect
from greenpoints.config import LOCAL_DIR, Settings
from greenpoints.databases import LOCAL_SERVER, create_database
from greenpoints.deploy import deploy
from greenpoints.errors import ConfigError
from greenpoints.pool_state import read_pool_state
from greenpoints.simulate import simulate
from greenpoints.walkthrough import run_walkthrough
from indexer.service import index, run_audit

WALKTHROUGH_DATABASE = "greenpoints_walkthrough"


def fresh_walkthrough_database(settings: Settings) -> str:
    """(Re)create the walkthrough's own database on the configured server (or the local one).

    Its chain is new on every run, so its mirror starts empty; it never writes into the database
    named in GREENPOINTS_DATABASE_URL itself.
    """
    try:
        return create_database(WALKTHROUGH_DATABASE, settings.database_url, replace=True)
    except psycopg.OperationalError as exc:
        server = make_url(settings.database_url or LOCAL_SERVER)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ConfigError(
            f"PostgreSQL is not reachable at {server.host}:{server.port or 5432} ({first}); "
            "start it or set GREENPOINTS_DATABASE_URL"
        ) from None


def run_walkthrough_job(settings: Settings, orders: int, seed: int) -> None:
    """Run everything on a throw-away local chain and print the pool after each step."""
    database_url = fresh_walkthrough_database(settings)
    print("compiling contracts (skipped when unchanged)")
    build()
    with Anvil() as node:
        print(f"started anvil on {node.url}")
        w3 = connect(node.url)
        deployment = deploy(w3)
        deployment_file = deployment.save(LOCAL_DIR / "walkthrough" / f"{deployment.chain_id}.json")
        run_walkthrough(w3, deployment)
        print(f"simulation: {orders} random actions, seed {seed}")
        simulate(w3, deployment, orders, seed, report_every=1)
        state = read_pool_state(w3, deployment)
        backed = state.asset_balance >= state.reserve + state.tax_accrued
        print(f"final: {state.describe(deployment.asset_decimals)}")
        print(f"reserve backs every point (asset balance >= reserve + tax accrued): {'yes' if backed else 'NO'}")

        print(f"indexing every event into PostgreSQL ({make_url(database_url).database})")
        indexed = settings.model_copy(
            update={"rpc_url": node.url, "deployment": deployment_file, "database_url": database_url}
        )
        index(indexed, once=True)
        run_audit(indexed)
