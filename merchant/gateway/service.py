"""`greenpoints merchant serve`: wire the outbox, the chain worker, webhooks and the HTTP server.

Start-up order matters for a quick restart after a crash: the node and the database are checked
and the chain worker starts resuming the outbox before FastAPI is even imported.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from merchant.connect import open_deployment
from merchant.errors import NotAMerchant
from merchant.gateway.chain_worker import ChainWorker, WorkerOptions
from merchant.gateway.delivery import WebhookDeliverer, event_builder
from merchant.gateway.failpoints import Failpoints
from merchant.gateway.outbox import Scope
from merchant.keys import MerchantKey
from merchant.migrate import libpq_url, upgrade_if_needed
from merchant.pool import PoolView
from merchant.rpc import Rpc
from merchant.settings import GatewaySettings, MerchantSettings

log = logging.getLogger("merchant.gateway")


@dataclass(frozen=True)
class ServeOptions:
    rpc_url: str
    deployment: Path | None
    database_url: str
    host: str
    port: int


def configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def serve(options: ServeOptions, key: MerchantKey, merchant: MerchantSettings, gateway: GatewaySettings) -> None:
    """Run the gateway until SIGINT/SIGTERM."""
    configure_logging()
    rpc = Rpc(options.rpc_url)
    deployment = open_deployment(rpc, options.deployment)
    view = PoolView(rpc, deployment)
    info = view.merchant(key.address)
    if not info.registered:
        raise NotAMerchant(f"the merchant key's address {key.address} is not a merchant of pool {view.pool}")
    if not info.active:
        log.warning("merchant %s is inactive: checkouts will fail until the operator activates it", key.address)
    upgrade_if_needed(options.database_url)

    from psycopg_pool import ConnectionPool

    conninfo = libpq_url(options.database_url)
    db: ConnectionPool[Any] = ConnectionPool(
        conninfo, min_size=2, max_size=12, open=True, kwargs={"connect_timeout": 5}, name="gateway"
    )
    scope = Scope(deployment.chain_id, view.pool, to_checksum_address(key.address))
    failpoints = Failpoints(gateway.failpoint)
    deliverer: WebhookDeliverer | None = None
    if gateway.webhook_url is not None and gateway.webhook_secret is not None:
        deliverer = WebhookDeliverer(
            db=db,
            url=gateway.webhook_url,
            secret=gateway.webhook_secret.get_secret_value().encode(),
            timeout=gateway.webhook_timeout,
            max_attempts=gateway.webhook_max_attempts,
            backoff=gateway.webhook_backoff,
            poll_interval=gateway.poll_interval,
            failpoints=failpoints,
        )
    worker = ChainWorker(
        rpc=rpc,
        view=view,
        key=key,
        db=db,
        conninfo=conninfo,
        scope=scope,
        options=WorkerOptions(
            confirmations=gateway.confirmations,
            batch_size=gateway.batch_size,
            poll_interval=gateway.poll_interval,
            stuck_after=merchant.stuck_after,
            priority_fee=merchant.priority_fee,
            max_fee=merchant.max_fee,
        ),
        webhook=None if deliverer is None else event_builder(scope=scope, asset_decimals=view.asset_decimals),
        on_finished=None if deliverer is None else deliverer.wake.set,
        failpoints=failpoints,
    )
    worker.start()
    if deliverer is not None:
        deliverer.start()
    try:
        import uvicorn

        from merchant.gateway.app import GatewayContext, create_app

        app = create_app(
            GatewayContext(
                db=db,
                scope=scope,
                asset_decimals=view.asset_decimals,
                tokens=gateway.token_list(),
                wake_worker=worker.wake.set,
                worker_status=lambda: worker.status,
                failpoints=failpoints,
            )
        )
        log.info(
            "gateway for merchant %s on pool %s (chain %d): http://%s:%d, %d confirmations, webhooks %s",
            scope.merchant,
            scope.pool,
            scope.chain_id,
            options.host,
            options.port,
            gateway.confirmations,
            "on" if deliverer is not None else "off",
        )
        config = uvicorn.Config(app, host=options.host, port=options.port, log_config=None, lifespan="off")
        uvicorn.Server(config).run()
    finally:
        worker.stop()
        if deliverer is not None:
            deliverer.stop()
        db.close()
