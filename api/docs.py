"""The OpenAPI document rendered by Swagger UI at /docs, with its files served from this machine
(the npm package `swagger-ui-dist`, pinned in package.json): nothing is fetched from a CDN."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from greenpoints.compiler import NODE_MODULES

SWAGGER_DIR = NODE_MODULES / "swagger-ui-dist"


def mount_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI) and `/docs/assets/*`; without the npm package the page says so."""
    if SWAGGER_DIR.is_dir():
        app.mount("/docs/assets", StaticFiles(directory=SWAGGER_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if not SWAGGER_DIR.is_dir():
            return HTMLResponse(
                "<p>Swagger UI is not installed here (run <code>npm ci</code>); the OpenAPI document is at "
                '<a href="/openapi.json">/openapi.json</a>.</p>'
            )
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Green Points API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )
