"""With its database unreachable, the API still answers: `/healthz` 200, and every route that reads
the mirror a 503 `application/problem+json` with `Retry-After`, whether the fast path
(`api.fastpath`) or a FastAPI route (a request with `Origin`) answers it, and alike.

The database is a real address with nothing listening (a port just freed); no fault is simulated.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from greenpoints.anvil import free_port
from tests.api.processes import ApiServer, base_env

ACCOUNT = "/v1/accounts/0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
ROUTES = (ACCOUNT, f"{ACCOUNT}?block=3", f"{ACCOUNT}/activity", f"{ACCOUNT}/activity?limit=5", "/v1/pool")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    workdir = tmp_path_factory.mktemp("api-down")
    env = base_env(database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    server = ApiServer(env, workdir, workdir / "api.log")
    yield server
    server.stop()


def test_routes_answer_503_problems_alike_with_the_database_down(api: ApiServer) -> None:
    assert api.get("/healthz").status_code == 200

    def get(job: tuple[str, bool]) -> requests.Response:
        path, cross_origin = job
        headers = {"Origin": "https://wallet.example"} if cross_origin else {}
        return requests.get(api.url + path, headers=headers, timeout=60)

    jobs = [(path, cross_origin) for path in ROUTES for cross_origin in (False, True)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:  # each waits out the pool's timeout
        answers = dict(zip(jobs, pool.map(get, jobs), strict=True))
    for (path, cross_origin), response in answers.items():
        assert response.status_code == 503, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "1"
        assert response.headers["vary"] == "Origin"
        assert response.headers.get("access-control-allow-origin") == ("*" if cross_origin else None)
        body = response.json()
        assert body["type"] == "urn:greenpoints:problem:unavailable", body
        assert body["detail"] == "the database cannot be reached"
        assert body["instance"] == path.split("?")[0]
        if not cross_origin:
            assert body == answers[(path, True)].json()
    readiness = api.get("/readyz")
    assert readiness.status_code == 503 and readiness.json()["reasons"]


def test_the_metrics_count_those_answers_per_route(api: ApiServer) -> None:
    text = api.get("/metrics").text
    for route in ("/v1/accounts/{address}", "/v1/accounts/{address}/activity"):
        assert f'greenpoints_api_requests_total{{method="GET",route="{route}",status="503"}}' in text
