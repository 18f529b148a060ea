"""Parameter changes through the pool's timelock (OpenZeppelin `TimelockController`).

The pool's `PARAMETER_ADMIN_ROLE` (fees, pool share, tax collector, global cap) and its default
admin role belong to the timelock; the operator key proposes and executes. A change is scheduled
with the timelock's delay (announced on chain by `CallScheduled`) and executed once it is ready.
On a local chain the delay is 0, so `govern` schedules and executes in one go.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from greenpoints.chain import contract, send
from greenpoints.deployment import Deployment
from greenpoints.errors import ChainError, GreenPointsError

NO_PREDECESSOR = bytes(32)


@dataclass(frozen=True)
class ScheduledCall:
    """A call waiting in the timelock: what `execute_scheduled` needs, and when it is ready."""

    target: str
    data: str
    salt: bytes
    operation_id: bytes
    ready_at: int


def schedule(w3: Web3, deployment: Deployment, call: ContractFunction, *, salt: bytes | None = None) -> ScheduledCall:
    """Schedule `call` (a function of the pool) in the timelock with its minimum delay."""
    timelock = contract(w3, "TimelockController", deployment.timelock)
    target = Web3.to_checksum_address(call.address)
    data = call._encode_transaction_data()
    salt = salt if salt is not None else os.urandom(32)
    delay = timelock.functions.getMinDelay().call()
    receipt = send(timelock.functions.schedule(target, 0, data, NO_PREDECESSOR, salt, delay), deployment.admin)
    operation_id = timelock.functions.hashOperation(target, 0, data, NO_PREDECESSOR, salt).call()
    ready_at = int(w3.eth.get_block(receipt["blockNumber"])["timestamp"]) + int(delay)
    return ScheduledCall(target=target, data=data, salt=salt, operation_id=bytes(operation_id), ready_at=ready_at)


def execute_scheduled(w3: Web3, deployment: Deployment, scheduled: ScheduledCall) -> TxReceipt:
    """Execute a scheduled call whose delay has passed (the timelock refuses it earlier)."""
    timelock = contract(w3, "TimelockController", deployment.timelock)
    if not timelock.functions.isOperationReady(scheduled.operation_id).call():
        operation = f"0x{scheduled.operation_id.hex()}"
        raise ChainError(f"timelock operation {operation} is not ready (ready at {scheduled.ready_at})")
    return send(
        timelock.functions.execute(scheduled.target, 0, scheduled.data, NO_PREDECESSOR, scheduled.salt),
        deployment.admin,
    )


def govern(w3: Web3, deployment: Deployment, call: ContractFunction) -> TxReceipt:
    """Schedule and execute `call` at once, on a timelock without delay (local chains); the
    execution's receipt. With a delay, use `schedule` now and `execute_scheduled` when ready."""
    delay = contract(w3, "TimelockController", deployment.timelock).functions.getMinDelay().call()
    if delay != 0:
        raise GreenPointsError(f"the timelock delays changes by {delay} s: schedule now, execute when ready")
    return execute_scheduled(w3, deployment, schedule(w3, deployment, call))
