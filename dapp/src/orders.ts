// Order references → on-chain order ids, by the same rule as greenpoints/orders.py: keccak256 of
// the reference's UTF-8 bytes; 1 to 128 code points, no control characters, no lone surrogates,
// used exactly as typed (no trimming, no case folding, no normalisation).
import { keccak256, stringToBytes, type Hex } from "viem";

export const MAX_ORDER_REF_LENGTH = 128;

export type OrderRefProblem = "empty" | "long" | "control" | "surrogate";

export function orderRefProblem(ref: string): OrderRefProblem | null {
  const points = [...ref];
  if (points.length === 0) return "empty";
  if (points.length > MAX_ORDER_REF_LENGTH) return "long";
  for (const char of points) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return "control";
    if (code >= 0xd800 && code <= 0xdfff) return "surrogate";
  }
  return null;
}

export function orderId(ref: string): Hex {
  return keccak256(stringToBytes(ref));
}
