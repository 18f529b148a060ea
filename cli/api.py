"""The command of the REST API: `greenpoints api`."""

from __future__ import annotations

import argparse
from typing import Any

from cli.args import positive
from greenpoints.config import Settings


def cmd_api(args: argparse.Namespace, settings: Settings) -> None:
    from api.server import serve
    from api.settings import load_api_settings

    api = load_api_settings({"host": args.host, "port": args.port, "workers": args.workers})
    print(f"greenpoints api: serving on http://{api.host}:{api.port} ({api.workers} worker(s)); docs at /docs")
    serve(api, settings)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "api", parents=[common], help="serve the REST API over the indexer's database (GREENPOINTS_API_*)"
    )
    p.add_argument("--host", help="address to listen on (default GREENPOINTS_API_HOST, else 127.0.0.1)")
    p.add_argument("--port", type=positive, help="TCP port (default GREENPOINTS_API_PORT, else 8000)")
    p.add_argument("--workers", type=positive, help="server processes (default GREENPOINTS_API_WORKERS, else 1)")
    p.set_defaults(run=cmd_api)
