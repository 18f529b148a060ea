"""The DApp's static files at /app (when its folder exists), sent with a strict Content-Security-Policy.

The page may load only its own scripts, styles, images and fonts, talk only to this API and the
configured public RPC, and never be framed; nothing inline, nothing from a CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

PREFIX = "/app"


def content_security_policy(rpc_url: str | None) -> str:
    connect = "'self'" + (f" {rpc_url}" if rpc_url else "")
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        )
    )


class SecurityHeaders:
    """Adds the policy (and no-sniff, no-referrer) to every answer under /app."""

    def __init__(self, app: Any, policy: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_wrapper)


def mount_app(app: FastAPI, folder: Path) -> bool:
    """Serve `folder` at /app (index.html for directories) if it exists; whether it was mounted."""
    if not folder.is_dir():
        return False
    app.mount(PREFIX, StaticFiles(directory=folder, html=True), name="app")
    return True
