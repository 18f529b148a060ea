"""Run the API with uvicorn: settings checked first (one line when bad), then N worker processes."""

from __future__ import annotations

import os
import shutil
import tempfile

from api.settings import ApiSettings
from greenpoints.config import Settings


def serve(api: ApiSettings, shared: Settings) -> None:
    """Serve until interrupted. Workers re-read the same settings from the environment, so the
    command line's flags are passed to them as GREENPOINTS_API_* variables."""
    import uvicorn

    from api.settings import database_url

    database_url(api, shared)  # refuse a missing URL before any worker starts
    os.environ.update(
        GREENPOINTS_API_HOST=api.host, GREENPOINTS_API_PORT=str(api.port), GREENPOINTS_API_WORKERS=str(api.workers)
    )
    # One metrics store for all the workers (prometheus_client's multiprocess mode); set before
    # anything imports prometheus_client, which reads it once.
    metrics_dir = tempfile.mkdtemp(prefix="greenpoints-api-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=api.host,
            port=api.port,
            workers=api.workers,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_level="warning",
            server_header=False,
            proxy_headers=False,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
