"""Response schemas for the OpenAPI document, apart from the tables (routes build the same shapes
as plain dicts and encode them with msgspec; the tests check every answer against these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
HASH = r"^0x[0-9a-f]{64}$"
UINT = r"^[0-9]+$"
DECIMAL = r"^[0-9]+(\.[0-9]+)?$"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Amount(Model):
    """An integer amount: raw base units and the same as a decimal, both exact strings."""

    raw: str = Field(pattern=UINT, examples=["42857142"])
    value: str = Field(pattern=DECIMAL, examples=["42.857142"])


class Price(Model):
    """A price in reserve currency per whole point: 18-decimal fixed point and the decimal."""

    raw: str = Field(pattern=UINT, examples=["428571428571428571"])
    value: str = Field(pattern=DECIMAL, examples=["0.428571428571428571"])


class Moment(Model):
    time: str = Field(examples=["2026-12-03T11:00:00Z"], description="ISO-8601, UTC")
    timestamp: int = Field(examples=[1796295600], description="unix seconds")


class IndexedBlock(Model):
    """The block the answer reflects: everything up to it is indexed."""

    number: int = Field(examples=[1234])
    hash: str | None = Field(pattern=HASH)
    time: str | None = None
    timestamp: int | None = None


class Envelope(Model):
    indexed_block: IndexedBlock


class Page(Envelope):
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class Problem(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(examples=["urn:greenpoints:problem:invalid-parameter"])
    title: str = Field(examples=["Bad Request"])
    status: int = Field(examples=[400])
    detail: str = Field(examples=["limit: Input should be less than or equal to 1000"])
    instance: str = Field(examples=["/v1/accounts/0x0000000000000000000000000000000000000001/activity"])
    field: str | None = Field(default=None, examples=["limit"], description="the offending parameter")
    errors: list[dict[str, str]] | None = None
    reasons: list[str] | None = Field(default=None, description="/readyz: why the service is not ready")


# ---------------------------------------------------------------------- pool


class Parameters(Model):
    fee_bps: int | None
    tax_bps: int | None
    pool_share_bps: int | None
    tax_collector: str | None = Field(pattern=ADDRESS)
    paused: bool
    global_daily_cap: Amount | None = Field(description="points per UTC day over all merchants, when set")
    global_minted_today: Amount | None


class FraudThreshold(Model):
    """SPEC §5: above this price a fake sale would pay, were it not for the mint bound."""

    price: Price
    numerator: str = Field(pattern=UINT)
    denominator: str = Field(pattern=UINT)
    price_above: bool


class PoolOut(Envelope):
    chain_id: int
    pool: str = Field(pattern=ADDRESS)
    points_token: str = Field(pattern=ADDRESS)
    asset: str = Field(pattern=ADDRESS)
    asset_decimals: int
    reserve: Amount
    supply: Amount
    price: Price
    tax_accrued: Amount
    holders: int
    last_change: Moment | None
    parameters: Parameters
    fraud_threshold: FraudThreshold | None
    head_block: int | None = Field(description="the chain head the indexer last saw")
    lag_blocks: int | None
    head_seen_at: str | None = Field(description="when the indexer last saw the head (ISO-8601, UTC)")
    halted_reason: str | None


# ---------------------------------------------------------------------- price


class Candle(Model):
    bucket: Moment
    open: Price
    high: Price
    low: Price
    close: Price
    changes: int = Field(description="price changes in the bucket; 0: filled with the previous close")


class CandlesOut(Envelope):
    interval: Literal["1m", "5m", "15m", "1h", "4h", "1d"]
    candles: list[Candle]


class PricePoint(Model):
    block_number: int
    log_index: int
    block_time: Moment
    reserve: Amount
    supply: Amount
    tax_accrued: Amount
    price: Price
    event: str = Field(description="the event that moved it", examples=["CheckedOut"])


class PriceHistoryOut(Page):
    items: list[PricePoint]


# ---------------------------------------------------------------------- accounts


class CashOut(Model):
    """What redeeming every point would give now, by the contract's rounding rules."""

    gross: Amount
    payout: Amount
    tax: Amount
    kept: Amount


class Activity(Model):
    block_number: int
    time: Moment


class AccountOut(Envelope):
    address: str = Field(pattern=ADDRESS)
    block: int = Field(description="the block the balance is for (the indexed block, or `?block=`)")
    balance: Amount
    face_value: Amount = Field(description="the points at face value in the reserve asset (rounded down)")
    cash_out_value: Amount = Field(description="the payout after the redemption fee")
    cash_out: CashOut
    first_activity: Activity | None
    last_activity: Activity | None


ActivityKind = Literal["checkout", "transfer_in", "transfer_out", "spend", "redemption", "burn"]


class ActivityItem(Model):
    kind: ActivityKind
    block_number: int
    log_index: int
    tx_hash: str = Field(pattern=HASH)
    time: Moment
    points: Amount
    counterparty: str | None = Field(pattern=ADDRESS, description="the other account of a transfer")
    merchant: str | None = Field(pattern=ADDRESS)
    order_id: str | None
    sale_amount: Amount | None = None
    pool_in: Amount | None = None
    payout: Amount | None = None
    tax: Amount | None = None
    kept: Amount | None = None


class ActivityOut(Page):
    address: str = Field(pattern=ADDRESS)
    items: list[ActivityItem]


class BalanceChange(Model):
    block_number: int
    log_index: int
    tx_hash: str = Field(pattern=HASH)
    time: Moment
    delta: str = Field(pattern=r"^-?[0-9]+$", description="raw points, signed")
    balance: Amount


class BalanceHistoryOut(Page):
    address: str = Field(pattern=ADDRESS)
    items: list[BalanceChange]


# ---------------------------------------------------------------------- merchants


class MerchantTotals(Model):
    minted: Amount
    spent: Amount
    pool_in: Amount
    sales: Amount
    checkouts: int


class Merchant(Model):
    address: str = Field(pattern=ADDRESS)
    rate_bps: int
    daily_cap: Amount
    active: bool
    updated_block: int
    day: str = Field(description="the UTC day of the indexed block", examples=["2026-12-03"])
    minted_today: Amount
    remaining_today: Amount
    totals: MerchantTotals


class MerchantsOut(Page):
    items: list[Merchant]


class MerchantOut(Envelope, Merchant):
    minted_avg_7d: Amount = Field(description="mean points minted per day over the 7 days before `day`")


class Checkout(Model):
    block_number: int
    log_index: int
    tx_hash: str = Field(pattern=HASH)
    time: Moment
    customer: str = Field(pattern=ADDRESS)
    order_id: str
    sale_amount: Amount
    points: Amount
    pool_in: Amount


class CheckoutsOut(Page):
    merchant: str = Field(pattern=ADDRESS)
    items: list[Checkout]


class MerchantDay(Model):
    day: str
    minted: Amount
    spent: Amount
    pool_in: Amount
    sales: Amount
    checkouts: int


class MerchantDailyOut(Page):
    merchant: str = Field(pattern=ADDRESS)
    items: list[MerchantDay]


# ---------------------------------------------------------------------- audit


class AuditCheck(Model):
    name: str
    ok: bool
    mirror: str | None
    chain: str | None


class AuditRun(Model):
    id: int
    block_number: int
    block_hash: str | None
    ran_at: Moment
    ok: bool
    holders: int
    source: Literal["live", "command"]
    every: int | None
    checks: list[AuditCheck]
    differences: list[str]


class AuditOut(Envelope):
    status: Literal["ok", "failed", "stale", "missing"]
    detail: str
    blocks_behind: int | None
    latest: AuditRun | None


class AuditHistoryOut(Page):
    items: list[AuditRun]


# ---------------------------------------------------------------------- service


class DeploymentOut(Model):
    chain_id: int
    pool: str = Field(pattern=ADDRESS)
    points_token: str = Field(pattern=ADDRESS)
    asset: str = Field(pattern=ADDRESS)
    asset_decimals: int
    points_decimals: int
    deployment_block: int
    timelock: str | None = Field(pattern=ADDRESS)
    admin_delay: int | None = Field(description="seconds a parameter change waits in the timelock")
    rpc_url: str | None = Field(description="a JSON-RPC URL for wallets")
    explorer_url: str | None


class Health(Model):
    status: Literal["ok"]


class Ready(Envelope):
    ready: Literal[True]
    head_block: int | None
    lag_blocks: int | None
    head_seen_at: str | None
