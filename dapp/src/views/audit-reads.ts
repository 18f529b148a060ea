// What the auditor view reads from the chain itself (never from the API): the pool's figures at
// the head and at the mirror's block, its parameters and hard bounds, the role holders rebuilt
// from RoleGranted/RoleRevoked logs, the timelock's delay, and the deployed code.
import type { Hex, PublicClient } from "viem";
import type { App } from "../app";
import { poolAbi, timelockAbi } from "../generated/abis";

export interface Figures {
  block: bigint;
  reserve: bigint;
  taxAccrued: bigint;
  supply: bigint;
  assetBalance: bigint;
  price: bigint;
}

export interface Parameters {
  feeBps: number;
  taxBps: number;
  poolShareBps: number;
  taxCollector: `0x${string}`;
  paused: boolean;
  globalDailyCap: bigint;
  globalMintedToday: bigint;
  bounds: {
    minRateBps: number;
    maxRateBps: number;
    minPoolShareBps: number;
    maxPoolShareBps: number;
    maxFeeBps: number;
    minDailyCap: bigint;
    maxDailyCap: bigint;
  };
}

export interface RoleHolders {
  contract: "pool" | "timelock";
  role: string;
  id: Hex;
  holders: `0x${string}`[];
}

export interface Governance {
  defaultAdmin: `0x${string}`;
  defaultAdminDelay: number;
  pendingAdmin: `0x${string}`;
  timelockDelay: bigint | null;
  roles: RoleHolders[];
}

export interface CodeCheck {
  name: string;
  address: `0x${string}`;
  matches: boolean | null;
  compiler: string | null;
  settings: string | null;
}

export async function readFigures(app: App, client: PublicClient, block: bigint): Promise<Figures> {
  const { pool, points, asset } = app.contracts;
  const at = { blockNumber: block };
  const [reserve, taxAccrued, supply, assetBalance, price] = await Promise.all([
    client.readContract({ ...pool, functionName: "reserve", ...at }),
    client.readContract({ ...pool, functionName: "taxAccrued", ...at }),
    client.readContract({ ...points, functionName: "totalSupply", ...at }),
    client.readContract({ ...asset, functionName: "balanceOf", args: [app.deployment.pool], ...at }),
    client.readContract({ ...pool, functionName: "price", ...at }),
  ]);
  return { block, reserve, taxAccrued, supply, assetBalance, price };
}

export async function readParameters(app: App, client: PublicClient, block: bigint): Promise<Parameters> {
  const pool = app.contracts.pool;
  const at = { blockNumber: block };
  const read = <N extends Parameters0>(functionName: N) => client.readContract({ ...pool, functionName, ...at });
  const [feeBps, taxBps, poolShareBps, taxCollector, paused, globalDailyCap, globalMintedToday] = await Promise.all([
    read("feeBps"),
    read("taxBps"),
    read("poolShareBps"),
    read("taxCollector"),
    read("paused"),
    read("globalDailyCap"),
    read("globalMintedToday"),
  ]);
  const [minRateBps, maxRateBps, minPoolShareBps, maxPoolShareBps, maxFeeBps, minDailyCap, maxDailyCap] =
    await Promise.all([
      read("MIN_RATE_BPS"),
      read("MAX_RATE_BPS"),
      read("MIN_POOL_SHARE_BPS"),
      read("MAX_POOL_SHARE_BPS"),
      read("MAX_FEE_BPS"),
      read("MIN_DAILY_CAP"),
      read("MAX_DAILY_CAP"),
    ]);
  return {
    feeBps: Number(feeBps),
    taxBps: Number(taxBps),
    poolShareBps: Number(poolShareBps),
    taxCollector: taxCollector as `0x${string}`,
    paused: paused as boolean,
    globalDailyCap: globalDailyCap as bigint,
    globalMintedToday: globalMintedToday as bigint,
    bounds: {
      minRateBps: Number(minRateBps),
      maxRateBps: Number(maxRateBps),
      minPoolShareBps: Number(minPoolShareBps),
      maxPoolShareBps: Number(maxPoolShareBps),
      maxFeeBps: Number(maxFeeBps),
      minDailyCap: minDailyCap as bigint,
      maxDailyCap: maxDailyCap as bigint,
    },
  };
}

// The pool's views without arguments that readParameters uses.
type Parameters0 =
  | "feeBps"
  | "taxBps"
  | "poolShareBps"
  | "taxCollector"
  | "paused"
  | "globalDailyCap"
  | "globalMintedToday"
  | "MIN_RATE_BPS"
  | "MAX_RATE_BPS"
  | "MIN_POOL_SHARE_BPS"
  | "MAX_POOL_SHARE_BPS"
  | "MAX_FEE_BPS"
  | "MIN_DAILY_CAP"
  | "MAX_DAILY_CAP";

const POOL_ROLES = ["DEFAULT_ADMIN_ROLE", "PARAMETER_ADMIN_ROLE", "MERCHANT_MANAGER_ROLE", "PAUSER_ROLE"] as const;
const TIMELOCK_ROLES = ["PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE", "DEFAULT_ADMIN_ROLE"] as const;

async function holdersFromLogs(
  client: PublicClient,
  address: `0x${string}`,
  abi: typeof poolAbi | typeof timelockAbi,
  fromBlock: bigint,
  toBlock: bigint,
): Promise<Map<Hex, Set<`0x${string}`>>> {
  const [granted, revoked] = await Promise.all([
    client.getContractEvents({ address, abi: abi as typeof poolAbi, eventName: "RoleGranted", fromBlock, toBlock }),
    client.getContractEvents({ address, abi: abi as typeof poolAbi, eventName: "RoleRevoked", fromBlock, toBlock }),
  ]);
  const events = [
    ...granted.map((e) => ({ e, grant: true })),
    ...revoked.map((e) => ({ e, grant: false })),
  ].sort((a, b) =>
    a.e.blockNumber === b.e.blockNumber ? a.e.logIndex - b.e.logIndex : a.e.blockNumber < b.e.blockNumber ? -1 : 1,
  );
  const roles = new Map<Hex, Set<`0x${string}`>>();
  for (const { e, grant } of events) {
    const role = e.args.role as Hex;
    const account = e.args.account as `0x${string}`;
    const set = roles.get(role) ?? new Set();
    if (grant) set.add(account);
    else set.delete(account);
    roles.set(role, set);
  }
  return roles;
}

export async function readGovernance(app: App, client: PublicClient, block: bigint): Promise<Governance> {
  const pool = app.contracts.pool;
  const timelock = app.contracts.timelock;
  const at = { blockNumber: block };
  const from = BigInt(app.deployment.deployment_block);
  const [defaultAdmin, defaultAdminDelay, pending, poolHolders, poolIds] = await Promise.all([
    client.readContract({ ...pool, functionName: "defaultAdmin", ...at }),
    client.readContract({ ...pool, functionName: "defaultAdminDelay", ...at }),
    client.readContract({ ...pool, functionName: "pendingDefaultAdmin", ...at }),
    holdersFromLogs(client, pool.address, poolAbi, from, block),
    Promise.all(POOL_ROLES.map((name) => client.readContract({ ...pool, functionName: name, ...at }))),
  ]);
  const roles: RoleHolders[] = POOL_ROLES.map((role, i) => {
    const id = poolIds[i] as Hex;
    return { contract: "pool", role, id, holders: [...(poolHolders.get(id) ?? [])] };
  });
  let timelockDelay: bigint | null = null;
  if (timelock) {
    const [delay, holders, ids] = await Promise.all([
      client.readContract({ ...timelock, functionName: "getMinDelay", ...at }),
      holdersFromLogs(client, timelock.address, timelockAbi, from, block),
      Promise.all(TIMELOCK_ROLES.map((name) => client.readContract({ ...timelock, functionName: name, ...at }))),
    ]);
    timelockDelay = delay;
    TIMELOCK_ROLES.forEach((role, i) => {
      const id = ids[i] as Hex;
      roles.push({ contract: "timelock", role, id, holders: [...(holders.get(id) ?? [])] });
    });
  }
  return {
    defaultAdmin,
    defaultAdminDelay: Number(defaultAdminDelay),
    pendingAdmin: pending[0],
    timelockDelay,
    roles,
  };
}

interface BuildFacts {
  compiler: string;
  optimizer: { enabled?: boolean; runs?: number } | null;
  evmVersion: string | null;
  viaIR: boolean;
  deployedBytecode: Hex;
  immutables: [number, number][];
}

function masked(code: string, immutables: [number, number][]): string {
  let out = code.toLowerCase().replace(/^0x/, "");
  for (const [start, length] of immutables) {
    out = out.slice(0, start * 2) + "00".repeat(length) + out.slice((start + length) * 2);
  }
  return out;
}

/** Each contract's deployed code against this build (immutable values masked on both sides). */
export async function checkCode(app: App, client: PublicClient, block: bigint): Promise<CodeCheck[]> {
  const response = await fetch(new URL("bytecode.json", window.location.href));
  const facts = (await response.json()) as Record<string, BuildFacts>;
  const targets: [string, `0x${string}` | null][] = [
    ["DividendPool", app.deployment.pool],
    ["PointsToken", app.deployment.points_token],
    ["TimelockController", app.deployment.timelock],
  ];
  const out: CodeCheck[] = [];
  for (const [name, address] of targets) {
    if (!address) continue;
    const build = facts[name];
    const code = await client.getCode({ address, blockNumber: block });
    const matches = build && code ? masked(code, build.immutables) === masked(build.deployedBytecode, build.immutables) : null;
    const settings = build
      ? [
          build.optimizer?.enabled ? `optimizer ${build.optimizer.runs ?? "?"} runs` : "no optimizer",
          build.viaIR ? "via-IR" : null,
          build.evmVersion ? `EVM ${build.evmVersion}` : null,
        ]
          .filter(Boolean)
          .join(", ")
      : null;
    out.push({ name, address, matches, compiler: build?.compiler ?? null, settings });
  }
  return out;
}
