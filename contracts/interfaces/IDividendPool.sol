// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Green Points dividend pool: the interface merchants, wallets, the indexer and auditors use
/// @notice Amounts of the reserve asset are in its own decimals; amounts of points have 18 decimals.
///         Every state-changing event carries the pool's `reserve` and the points' `totalSupply`
///         *after* the change, so the whole price history can be rebuilt from logs alone.
interface IDividendPool {
    // ---------------------------------------------------------------- errors

    /// @dev `merchant` is not registered, or was revoked.
    error PoolUnknownMerchant(address merchant);
    /// @dev `(merchant, orderId)` was already checked out or spent.
    error PoolOrderReplayed(address merchant, bytes32 orderId);
    /// @dev Minting `requested` points would exceed the merchant's cap; `remaining` is left today.
    error PoolDailyCapExceeded(address merchant, uint256 requested, uint256 remaining);
    /// @dev A redemption would pay `payout`, less than the caller's `minPayout`.
    error PoolSlippage(uint256 payout, uint256 minPayout);
    /// @dev An amount that must be positive was zero (or rounded to nothing).
    error PoolZeroAmount();
    /// @dev A customer, merchant or collector address was the zero address.
    error PoolZeroAddress();
    /// @dev Asked to redeem `requested` points but only `balance` are held.
    error PoolInsufficientPoints(uint256 balance, uint256 requested);
    /// @dev A parameter `value` lies outside its hard bounds `[min, max]`.
    error PoolOutOfBounds(uint256 value, uint256 min, uint256 max);
    /// @dev The reserve asset delivered `received` where `expected` was sent (fee-on-transfer assets are refused).
    error PoolTransferShortfall(uint256 expected, uint256 received);
    /// @dev Only the tax collector may withdraw the accrued tax.
    error PoolNotTaxCollector(address caller);
    /// @dev A signed spend permission expired at `deadline`.
    error PoolPermissionExpired(uint256 deadline);
    /// @dev A signed spend permission was not signed by `holder`.
    error PoolInvalidSignature(address holder);
    /// @dev The reserve asset has `decimals` decimals; at most 18 are supported.
    error PoolUnsupportedAsset(uint8 decimals);

    // ---------------------------------------------------------------- events

    /// @notice A merchant reported a sale: `poolIn` of the asset entered the reserve, `points` were minted.
    event CheckedOut(
        address indexed merchant,
        address indexed customer,
        bytes32 indexed orderId,
        uint256 saleAmount,
        uint256 points,
        uint256 poolIn,
        uint256 reserveAfter,
        uint256 supplyAfter
    );
    /// @notice `holder` burned `points` and received `payout`; `tax` accrued to the collector, `kept` stayed in the pool.
    event Redeemed(
        address indexed holder,
        uint256 points,
        uint256 payout,
        uint256 tax,
        uint256 kept,
        uint256 reserveAfter,
        uint256 supplyAfter
    );
    /// @notice `holder` spent (burned) `points` at `merchant` for `orderId`; the reserve stayed.
    event Spent(
        address indexed holder,
        address indexed merchant,
        bytes32 indexed orderId,
        uint256 points,
        uint256 reserveAfter,
        uint256 supplyAfter
    );
    /// @notice `from` added `amount` of the asset to the reserve.
    event Funded(address indexed from, uint256 amount, uint256 reserveAfter, uint256 supplyAfter);
    /// @notice The tax collector `to` withdrew `amount` of accrued tax.
    event TaxWithdrawn(address indexed to, uint256 amount);
    /// @notice A merchant's settings were set (registration, change or revocation).
    event MerchantSet(address indexed merchant, uint16 rateBps, uint256 dailyCap, bool active);
    /// @notice The redemption fee and the tax part of it were set.
    event FeesSet(uint16 feeBps, uint16 taxBps);
    /// @notice The share of each skim that goes into the pool was set.
    event PoolShareSet(uint16 poolShareBps);
    /// @notice The tax collector was set.
    event TaxCollectorSet(address indexed collector);

    // ---------------------------------------------------------------- merchants

    /// @notice Report a sale of `saleAmount` to `customer`: pulls the pool's part of the skim from the
    ///         merchant (caller) in the reserve asset and mints the rest as points to `customer`.
    /// @dev Reverts if paused, if the caller is no active merchant, if `(caller, orderId)` was used,
    ///      or if the merchant's daily cap would be exceeded.
    /// @return points Points minted (18 decimals).
    function checkout(address customer, uint256 saleAmount, bytes32 orderId) external returns (uint256 points);

    // ---------------------------------------------------------------- holders

    /// @notice Burn `points` of the caller and receive the reserve asset, less the fee.
    /// @param minPayout The smallest payout the caller accepts (slippage guard).
    /// @return payout The amount of the reserve asset sent to the caller.
    function redeem(uint256 points, uint256 minPayout) external returns (uint256 payout);

    /// @notice Spend (burn) `points` of the caller at active `merchant` for `orderId`; the merchant
    ///         grants the discount off-chain. The reserve stays, so the price rises.
    function spend(address merchant, uint256 points, bytes32 orderId) external;

    /// @notice Add `amount` of the reserve asset to the pool (for example a marketing budget).
    function fund(uint256 amount) external;

    /// @notice Send all accrued tax to the tax collector (caller).
    function withdrawTax() external;

    // ---------------------------------------------------------------- views

    /// @notice The pool's accounted reserve (asset decimals); tokens sent by mistake are not counted.
    function reserve() external view returns (uint256);

    /// @notice Tax accrued for the collector and not yet withdrawn (asset decimals).
    function taxAccrued() external view returns (uint256);

    /// @notice Reserve currency per whole point, 18-decimal fixed point; 0 when no points exist.
    function price() external view returns (uint256);

    /// @notice What redeeming `points` now would give: `payout` to the holder, `tax` to the collector,
    ///         `kept` in the pool (all in asset decimals).
    function quoteRedeem(uint256 points) external view returns (uint256 payout, uint256 tax, uint256 kept);

    /// @notice What a checkout of `saleAmount` by `merchant` would mint and pull into the pool now.
    function quoteCheckout(address merchant, uint256 saleAmount) external view returns (uint256 points, uint256 poolIn);

    /// @notice The reserve asset (an ERC-20 stablecoin).
    function asset() external view returns (address);

    /// @notice The points token, created by and mintable only by this pool.
    function pointsToken() external view returns (address);
}
