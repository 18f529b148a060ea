"""Throughput of the economics model: pool operations per second, against a baseline measured in
the same run — a bare loop doing the same integer arithmetic with no state machine around it.

    .venv/bin/python scripts/bench_model.py [--ops N] [--runs R]

The target is at least 100,000 operations per second (a mix of checkouts, transfers, spends,
redemptions and top-ups, as the scenarios run them). The best of R runs is reported.
"""

from __future__ import annotations

import argparse
import time

from greenpoints.rules import BPS, POINT
from model.pool import Pool

TARGET = 100_000
U = 10**6
MIX = ("checkout", "checkout", "transfer", "spend", "redeem", "checkout", "fund", "checkout")


def model_ops(n: int) -> float:
    """Seconds for `n` model operations cycling through `MIX`."""
    pool = Pool(6)
    pool.set_merchant("shop", 1_000, pool.bounds.max_daily_cap, True)
    pool.checkout("shop", "alice", 5_000 * U, b"seed")
    start = time.perf_counter()
    for i in range(n):
        action = MIX[i & 7]
        if action == "checkout":
            pool.checkout("shop", "alice" if i & 8 else "bob", 3_800 * U, i.to_bytes(8, "big"))
        elif action == "transfer":
            pool.transfer("alice", "bob", POINT)
        elif action == "spend":
            pool.spend("bob", "shop", POINT, i.to_bytes(8, "big"))
        elif action == "redeem":
            pool.redeem("alice", POINT)
        else:
            pool.fund("sponsor", U, pool.supply)
    return time.perf_counter() - start


def baseline_ops(n: int) -> float:
    """Seconds for `n` steps of the same arithmetic on bare integers (no checks, no books)."""
    reserve, supply, fee, tax, share = 150 * U, 350 * POINT, 1_000, 600, 3_000
    scale = POINT // U
    start = time.perf_counter()
    for i in range(n):
        action = MIX[i & 7]
        if action == "checkout":
            skim = 3_800 * U * 1_000 // BPS
            pool_in = -(-skim * share // BPS)
            points = min((skim - pool_in) * scale, pool_in * supply * BPS // (reserve * (BPS - fee)))
            reserve += pool_in
            supply += points
        elif action == "spend":
            supply -= POINT
        elif action == "redeem":
            gross = POINT * reserve // supply
            reserve -= gross - -(-gross * fee // BPS) + gross * tax // BPS
            supply -= POINT
        elif action == "fund":
            reserve += U
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200_000, help="operations per run (default 200,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the best is reported (default 3)")
    args = parser.parse_args()
    model = min(model_ops(args.ops) for _ in range(args.runs))
    base = min(baseline_ops(args.ops) for _ in range(args.runs))
    model_rate, base_rate = args.ops / model, args.ops / base
    print(f"model:    {model_rate:>12,.0f} operations/s ({args.ops:,} operations, best of {args.runs})")
    print(f"baseline: {base_rate:>12,.0f} steps/s of the same integer arithmetic, bare")
    verdict = "met" if model_rate >= TARGET else "NOT met"
    print(f"model / baseline: {model_rate / base_rate:.2f}; target {TARGET:,}/s: {verdict}")


if __name__ == "__main__":
    main()
