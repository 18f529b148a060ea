// The page's shared state: the deployment, the API, the wallet session, chain access, and the
// mirror's status (indexed block, head, lag), polled so that no figure is shown as current
// when it is not.
import { Api, ApiError } from "./api";
import { ChainAccess, contracts } from "./chain";
import type { ErrorContext } from "./errors";
import type { Deployment, PoolOut } from "./types";
import { WalletSession } from "./wallet/session";

const POLL_MS = 1000;

export interface MirrorStatus {
  pool: PoolOut | null;
  /** When the API last failed, how (null while it answers). */
  error: ApiError | null;
  /** The chain head as the page's reader sees it. */
  chainHead: bigint | null;
}

export class App {
  readonly chain: ChainAccess;
  readonly session: WalletSession;
  assetSymbol = "";
  status: MirrorStatus = { pool: null, error: null, chainHead: null };
  private statusListeners: ((indexedChanged: boolean) => void)[] = [];
  private timer: number | null = null;

  constructor(
    readonly api: Api,
    readonly deployment: Deployment,
  ) {
    this.session = new WalletSession(deployment);
    this.chain = new ChainAccess(deployment, this.session);
  }

  get contracts() {
    return contracts(this.deployment);
  }

  errorContext(tokenDecimals?: number): ErrorContext {
    return {
      assetDecimals: this.deployment.asset_decimals,
      assetSymbol: this.assetSymbol,
      tokenDecimals,
      wantChain: this.deployment.chain_id,
      haveChain: this.session.chainId,
    };
  }

  onStatus(listener: (indexedChanged: boolean) => void): void {
    this.statusListeners.push(listener);
  }

  /** The indexed block, or null when the API has not answered yet. */
  get indexedBlock(): number | null {
    return this.status.pool?.indexed_block.number ?? null;
  }

  async readAssetSymbol(): Promise<void> {
    const reader = this.chain.reader();
    if (!reader) return;
    try {
      this.assetSymbol = await reader.client.readContract({ ...this.contracts.asset, functionName: "symbol" });
    } catch {
      // shown without a symbol
    }
  }

  start(): void {
    void this.poll();
  }

  /** Poll the mirror (and the chain head) now, then every POLL_MS. */
  async poll(): Promise<void> {
    if (this.timer !== null) window.clearTimeout(this.timer);
    const before = this.indexedBlock;
    try {
      this.status.pool = await this.api.get<PoolOut>("/v1/pool");
      this.status.error = null;
    } catch (exc) {
      this.status.error = exc instanceof ApiError ? exc : new ApiError("unreachable", null, String(exc));
    }
    const reader = this.chain.reader();
    try {
      this.status.chainHead = reader ? await reader.client.getBlockNumber({ cacheTime: 0 }) : null;
    } catch {
      this.status.chainHead = null;
    }
    const changed = this.indexedBlock !== before;
    for (const listener of this.statusListeners) listener(changed);
    this.timer = window.setTimeout(() => void this.poll(), POLL_MS);
  }

  /** Resolve once the mirror has indexed `block` (polling the API); false after `timeoutMs`. */
  async waitIndexed(block: bigint, timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.poll();
      const indexed = this.indexedBlock;
      if (indexed !== null && BigInt(indexed) >= block) return true;
      await new Promise((resolve) => window.setTimeout(resolve, 300));
    }
    return false;
  }
}
