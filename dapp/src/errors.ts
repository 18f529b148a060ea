// Errors into words: the pool's and the token's custom errors with their figures, a rejection in
// the wallet, a wrong chain, an unreachable API or chain. Each has its own message.
import {
  BaseError,
  ChainMismatchError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  type Abi,
  type Hex,
} from "viem";
import { ApiError } from "./api";
import { assetAbi, pointsAbi, poolAbi, timelockAbi } from "./generated/abis";
import { locale, t, type MessageKey } from "./i18n";
import { formatUnits, POINT_DECIMALS } from "./units";
import { errorCode, MissingRpcUrl } from "./wallet/session";

const ERROR_ABI = [...poolAbi, ...pointsAbi, ...assetAbi, ...timelockAbi].filter((e) => e.type === "error") as Abi;

// Arguments that are amounts of the reserve asset; of points; of whichever token raised an ERC-20 error.
const ASSET_ARGS = new Set(["payout", "minPayout", "expected", "received"]);
const POINT_ARGS = new Set(["requested", "remaining", "supply", "maxSupply"]);
const TOKEN_ARGS = new Set(["balance", "needed", "allowance"]);

export interface ErrorContext {
  assetDecimals: number;
  assetSymbol: string;
  /** Decimals of the token an ERC-20 error came from (points unless the asset was moved). */
  tokenDecimals?: number;
  wantChain?: number;
  haveChain?: number | null;
}

export class UserFacingError extends Error {
  constructor(readonly key: MessageKey, readonly params: Record<string, string | number> = {}) {
    super(key);
  }
}

function isKey(key: string): key is MessageKey {
  return t(key as MessageKey).startsWith("⟦") === false;
}

function shortHex(value: string): string {
  return value.length > 14 ? `${value.slice(0, 8)}…${value.slice(-6)}` : value;
}

function formatArg(name: string, value: unknown, ctx: ErrorContext, errorName: string): string {
  if (typeof value === "bigint") {
    const loc = locale();
    if (ASSET_ARGS.has(name)) return `${formatUnits(value, ctx.assetDecimals, loc)} ${ctx.assetSymbol}`;
    if (POINT_ARGS.has(name) || (name === "balance" && errorName === "PoolInsufficientPoints")) {
      return formatUnits(value, POINT_DECIMALS, loc, 6);
    }
    if (TOKEN_ARGS.has(name)) return formatUnits(value, ctx.tokenDecimals ?? POINT_DECIMALS, loc, 6);
    return value.toString();
  }
  return typeof value === "string" ? shortHex(value) : String(value);
}

/** The words for a custom error `name(args)` decoded against the contracts' ABIs. */
export function describeRevert(
  name: string,
  args: readonly unknown[],
  inputs: readonly { name?: string }[],
  ctx: ErrorContext,
): string {
  const key = `error.${name}`;
  const params: Record<string, string> = {};
  inputs.forEach((input, i) => {
    if (input.name) params[input.name] = formatArg(input.name, args[i], ctx, name);
  });
  if (isKey(key)) return t(key, params);
  return t("error.unknownRevert", { reason: `${name}(${Object.values(params).join(", ")})` });
}

/** Revert data anywhere in an error's chain (a raw `eth_call` error carries it as `data`). */
function revertData(err: BaseError): Hex | null {
  let found: Hex | null = null;
  err.walk((e) => {
    const data = (e as { data?: unknown }).data;
    const hex = typeof data === "string" ? data : (data as { data?: unknown } | undefined)?.data;
    if (typeof hex === "string" && /^0x[0-9a-fA-F]{8}/.test(hex)) found = hex as Hex;
    return found !== null;
  });
  return found;
}

function decodeRaw(raw: Hex, ctx: ErrorContext): string | null {
  try {
    const decoded = decodeErrorResult({ abi: ERROR_ABI, data: raw });
    const item = decoded.abiItem as { inputs?: readonly { name?: string }[] };
    return describeRevert(decoded.errorName, decoded.args ?? [], item.inputs ?? [], ctx);
  } catch {
    return null; // an error of a contract we do not know
  }
}

function revertOf(err: BaseError, ctx: ErrorContext): string | null {
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  if (!reverted) {
    const raw = revertData(err);
    return raw ? decodeRaw(raw, ctx) : null;
  }
  if (reverted.data?.errorName) {
    const item = reverted.data.abiItem as { inputs?: readonly { name?: string }[] };
    return describeRevert(reverted.data.errorName, reverted.data.args ?? [], item.inputs ?? [], ctx);
  }
  const raw = (reverted as unknown as { raw?: Hex }).raw ?? revertData(err);
  const decoded = raw && raw.length >= 10 ? decodeRaw(raw, ctx) : null;
  if (decoded) return decoded;
  if (reverted.reason) return t("error.unknownRevert", { reason: reverted.reason });
  return t("error.unknownRevert", { reason: reverted.signature ?? "?" });
}

/** One message for anything an action or a read threw. */
export function describeError(exc: unknown, ctx: ErrorContext): string {
  if (exc instanceof UserFacingError) return t(exc.key, exc.params);
  if (exc instanceof ApiError) {
    if (exc.kind === "unreachable") return t("error.apiUnreachable");
    if (exc.kind === "unavailable") return t("error.apiUnavailable", { detail: exc.detail });
    return t("error.apiProblem", { detail: exc.detail });
  }
  if (exc instanceof MissingRpcUrl) return t("error.noRpcUrl");
  const code = errorCode(exc);
  if (exc instanceof BaseError) {
    const rejected = exc.walk((e) => errorCode(e) === 4001 || (e as BaseError).name === "UserRejectedRequestError");
    if (rejected) return t("error.rejected");
    if (exc.walk((e) => e instanceof ChainMismatchError)) {
      return t("error.wrongChain", { have: String(ctx.haveChain ?? "?"), want: String(ctx.wantChain ?? "?") });
    }
    const revert = revertOf(exc, ctx);
    if (revert) return revert;
    if (exc.walk((e) => (e as BaseError).name === "InsufficientFundsError")) return t("error.gasFunds");
    if (exc.walk((e) => (e as BaseError).name === "HttpRequestError")) return t("error.chainUnreachable");
    return t("error.unknown", { detail: exc.shortMessage });
  }
  if (code === 4001) return t("error.rejected");
  if (code === 4100) return t("error.unauthorized");
  if (code === 4902) return t("error.unknownChain");
  const message = (exc as { message?: string })?.message ?? String(exc);
  return t("error.unknown", { detail: message });
}
