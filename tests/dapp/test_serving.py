"""How the API serves the page: the built files at /app with a Content-Security-Policy that lets
it load only its own files and talk only to this API and the published RPC."""

from __future__ import annotations

import re

import requests

from tests.dapp.stack import DIST, DappStack


def test_the_page_comes_with_a_strict_policy_and_subresource_integrity(dapp: DappStack) -> None:
    response = requests.get(dapp.app_url, timeout=10)
    assert response.status_code == 200
    policy = {d.split()[0]: d.split()[1:] for d in response.headers["content-security-policy"].split("; ")}
    assert policy["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "font-src"):
        assert policy[directive] == ["'self'"], directive
    assert policy["connect-src"] == ["'self'", dapp.anvil.url]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    # Both files carry an integrity hash, and they are the built ones.
    html = response.text
    assert re.search(r'<script defer src="app\.js\?v=\w+" integrity="sha384-[\w+/=]+"', html)
    assert re.search(r'<link rel="stylesheet" href="styles\.css\?v=\w+" integrity="sha384-[\w+/=]+"', html)
    assert html == (DIST / "index.html").read_text()
    assert "http" not in re.sub(r"https://www\.tradingview\.com/", "", (DIST / "index.html").read_text())
