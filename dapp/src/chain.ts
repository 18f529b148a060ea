// Reading the chain and writing to it with viem: through the connected wallet when it is on the
// deployment's chain, else through the RPC URL the API publishes (the page's CSP allows exactly
// that origin besides its own).
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  type Chain,
  type PublicClient,
  type WalletClient,
} from "viem";
import { assetAbi, pointsAbi, poolAbi, timelockAbi } from "./generated/abis";
import type { Deployment } from "./types";
import type { Eip1193Provider } from "./wallet/discovery";
import { chainName, type WalletSession } from "./wallet/session";

export type ReadSource = "wallet" | "rpc";

export interface Reader {
  client: PublicClient;
  source: ReadSource;
}

export function chainOf(deployment: Deployment): Chain {
  return defineChain({
    id: deployment.chain_id,
    name: chainName(deployment.chain_id),
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: deployment.rpc_url ? [deployment.rpc_url] : [] } },
  });
}

export function contracts(deployment: Deployment) {
  return {
    pool: { address: deployment.pool, abi: poolAbi },
    points: { address: deployment.points_token, abi: pointsAbi },
    asset: { address: deployment.asset, abi: assetAbi },
    timelock: deployment.timelock ? { address: deployment.timelock, abi: timelockAbi } : null,
  } as const;
}

export class ChainAccess {
  readonly chain: Chain;
  private rpcClient: PublicClient | null = null;
  private walletReader: { provider: Eip1193Provider; client: PublicClient } | null = null;

  constructor(
    readonly deployment: Deployment,
    readonly session: WalletSession,
  ) {
    this.chain = chainOf(deployment);
    if (deployment.rpc_url) {
      this.rpcClient = createPublicClient({ chain: this.chain, transport: http(deployment.rpc_url, { retryCount: 1 }) });
    }
  }

  /** Where chain figures come from now; null when neither the wallet nor a published RPC can answer. */
  reader(): Reader | null {
    const provider = this.session.provider;
    if (provider && this.session.onRightChain) {
      if (this.walletReader?.provider !== provider) {
        const client = createPublicClient({ chain: this.chain, transport: custom(provider), pollingInterval: 400 });
        this.walletReader = { provider, client };
      }
      return { client: this.walletReader.client, source: "wallet" };
    }
    return this.rpcClient ? { client: this.rpcClient, source: "rpc" } : null;
  }

  /** A client that signs through the wallet, for its current account. */
  writer(): WalletClient | null {
    const provider = this.session.provider;
    const account = this.session.account;
    if (!provider || !account) return null;
    return createWalletClient({ chain: this.chain, transport: custom(provider), account });
  }
}
