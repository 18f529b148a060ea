"""Governance (SPEC §2): who holds which role, the timelock's delay, and the 2-step admin transfer.

The value-moving parameters (fees, pool share, tax collector, global cap) and the roles belong to
an OpenZeppelin `TimelockController`, proposed and executed by the operator key; merchants and
pausing stay with the operator. The default admin changes hands only by a scheduled transfer that
the new admin accepts after the delay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from greenpoints.anvil import Anvil
from greenpoints.chain import contract
from greenpoints.deploy import deploy
from greenpoints.errors import GreenPointsError
from greenpoints.governance import execute_scheduled, govern, schedule
from tests.conftest import PoolEnv, make_env
from tests.contracts.conftest import env_watch
from tests.contracts.helpers import expect_refusal, latest_timestamp, mine_at, role_id, transact

DAY = 86_400
ADMIN_ROLE = role_id("DEFAULT_ADMIN_ROLE")


def test_the_deployment_gives_each_role_to_its_holder(env: PoolEnv) -> None:
    pool, timelock, operator = env.pool.functions, env.timelock.functions, env.admin
    tl = env.deployment.timelock
    assert pool.defaultAdmin().call() == tl
    assert pool.hasRole(role_id("PARAMETER_ADMIN_ROLE"), tl).call()
    for role in ("MERCHANT_MANAGER_ROLE", "PAUSER_ROLE"):
        assert pool.hasRole(role_id(role), operator).call() and not pool.hasRole(role_id(role), tl).call()
    assert not pool.hasRole(role_id("PARAMETER_ADMIN_ROLE"), operator).call()
    assert not pool.hasRole(ADMIN_ROLE, operator).call()
    for role in ("PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"):
        assert timelock.hasRole(role_id(role), operator).call()
    # Nobody but the timelock itself administers the timelock (its own settings go through its delay).
    assert timelock.hasRole(ADMIN_ROLE, tl).call() and not timelock.hasRole(ADMIN_ROLE, operator).call()
    assert timelock.getMinDelay().call() == env.deployment.admin_delay == 0


def test_a_cancelled_change_never_executes(env: PoolEnv) -> None:
    w3, d = env.w3, env.deployment
    delayed = deploy(w3, admin_delay=DAY, log=lambda _: None)
    e = make_env(w3, delayed)
    scheduled = schedule(w3, delayed, e.pool.functions.setPoolShare(5_000))
    with pytest.raises(GreenPointsError, match="delays changes by 86400 s"):
        govern(w3, delayed, e.pool.functions.setPoolShare(5_000))
    transact(e.timelock.functions.cancel(scheduled.operation_id), delayed.admin)
    mine_at(w3, scheduled.ready_at + 1)
    with pytest.raises(GreenPointsError, match="not ready"):
        execute_scheduled(w3, delayed, scheduled)
    assert e.pool.functions.poolShareBps().call() == 3_000
    assert d.timelock != delayed.timelock


def test_the_default_admin_moves_in_two_delayed_steps(env: PoolEnv) -> None:
    w3 = env.w3
    delayed = deploy(w3, admin_delay=DAY, log=lambda _: None)
    e = make_env(w3, delayed)
    heir, stranger = e.customers[8], e.customers[9]
    assert e.pool.functions.defaultAdminDelay().call() == DAY
    scheduled = schedule(w3, delayed, e.pool.functions.beginDefaultAdminTransfer(heir))
    mine_at(w3, scheduled.ready_at + 1)
    execute_scheduled(w3, delayed, scheduled)
    new_admin, accept_at = e.pool.functions.pendingDefaultAdmin().call()
    assert new_admin == heir and accept_at > latest_timestamp(w3)
    watch = env_watch(e)
    accept = e.pool.functions.acceptDefaultAdminTransfer()
    expect_refusal(accept, stranger, "AccessControlInvalidDefaultAdmin", [stranger], watch=watch)
    expect_refusal(
        e.pool.functions.acceptDefaultAdminTransfer(),
        heir,
        "AccessControlEnforcedDefaultAdminDelay",
        [accept_at],
        watch=watch,
    )
    mine_at(w3, accept_at + 1)
    transact(e.pool.functions.acceptDefaultAdminTransfer(), heir)
    assert e.pool.functions.defaultAdmin().call() == heir
    assert not e.pool.functions.hasRole(ADMIN_ROLE, delayed.timelock).call()
    # The parameter admin role stays with the timelock until the new admin moves it.
    assert e.pool.functions.hasRole(role_id("PARAMETER_ADMIN_ROLE"), delayed.timelock).call()


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def test_cli_deploy_sets_the_admin_delay(tmp_path: Path) -> None:
    with Anvil() as node:
        out = tmp_path / "d.json"
        done = run_cli("deploy", "--rpc", node.url, "--deployment", str(out), "--admin-delay", "2d", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        record = json.loads(out.read_text())
        assert record["admin_delay"] == 2 * DAY
        timelock = contract(Web3(Web3.HTTPProvider(node.url)), "TimelockController", record["timelock"])
        assert timelock.functions.getMinDelay().call() == 2 * DAY
    bad = run_cli("deploy", "--admin-delay", "soon", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "greenpoints deploy: error: argument --admin-delay: not a duration: 'soon' (seconds, or a number with s, m,"
        " h or d) (see greenpoints deploy --help)"
    ]
