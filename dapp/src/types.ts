// The shapes of the REST API's answers (api/models.py); amounts arrive as integer strings.

export interface Amount {
  raw: string;
  value: string;
}
export interface Moment {
  time: string;
  timestamp: number;
}
export interface IndexedBlock {
  number: number;
  hash: string | null;
  time: string | null;
  timestamp: number | null;
}
export interface Envelope {
  indexed_block: IndexedBlock;
}
export interface Page<T> extends Envelope {
  next_cursor: string | null;
  items: T[];
}

export interface Deployment {
  chain_id: number;
  pool: `0x${string}`;
  points_token: `0x${string}`;
  asset: `0x${string}`;
  asset_decimals: number;
  points_decimals: number;
  deployment_block: number;
  timelock: `0x${string}` | null;
  admin_delay: number | null;
  rpc_url: string | null;
  explorer_url: string | null;
}

export interface PoolOut extends Envelope {
  reserve: Amount;
  supply: Amount;
  price: Amount;
  tax_accrued: Amount;
  holders: number;
  parameters: {
    fee_bps: number | null;
    tax_bps: number | null;
    pool_share_bps: number | null;
    tax_collector: string | null;
    paused: boolean;
    global_daily_cap: Amount | null;
    global_minted_today: Amount | null;
  };
  fraud_threshold: { price: Amount; numerator: string; denominator: string; price_above: boolean } | null;
  head_block: number | null;
  lag_blocks: number | null;
  head_seen_at: string | null;
  halted_reason: string | null;
}

export interface Candle {
  bucket: Moment;
  open: Amount;
  high: Amount;
  low: Amount;
  close: Amount;
  changes: number;
}
export interface CandlesOut extends Envelope {
  interval: string;
  candles: Candle[];
}

export type ActivityKind = "checkout" | "transfer_in" | "transfer_out" | "spend" | "redemption" | "burn";
export interface ActivityItem {
  kind: ActivityKind;
  block_number: number;
  log_index: number;
  tx_hash: string;
  time: Moment;
  points: Amount;
  counterparty: string | null;
  merchant: string | null;
  order_id: string | null;
  sale_amount?: Amount | null;
  pool_in?: Amount | null;
  payout?: Amount | null;
  tax?: Amount | null;
  kept?: Amount | null;
}
export interface ActivityOut extends Page<ActivityItem> {
  address: string;
}

export interface BalanceChange {
  block_number: number;
  log_index: number;
  tx_hash: string;
  time: Moment;
  delta: string;
  balance: Amount;
}

export interface Merchant {
  address: `0x${string}`;
  rate_bps: number;
  daily_cap: Amount;
  active: boolean;
  updated_block: number;
  day: string;
  minted_today: Amount;
  remaining_today: Amount;
  totals: { minted: Amount; spent: Amount; pool_in: Amount; sales: Amount; checkouts: number };
}

export interface Checkout {
  block_number: number;
  log_index: number;
  tx_hash: string;
  time: Moment;
  customer: string;
  order_id: string;
  sale_amount: Amount;
  points: Amount;
  pool_in: Amount;
}

export interface AuditOut extends Envelope {
  status: "ok" | "failed" | "stale" | "missing";
  detail: string;
  blocks_behind: number | null;
  latest: {
    id: number;
    block_number: number;
    block_hash: string | null;
    ran_at: Moment;
    ok: boolean;
    holders: number;
    source: string;
    checks: { name: string; ok: boolean; mirror: string | null; chain: string | null }[];
    differences: string[];
  } | null;
}
