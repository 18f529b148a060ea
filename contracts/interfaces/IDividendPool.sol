// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Green Points dividend pool: the interface merchants, wallets, the indexer and auditors use
/// @notice Amounts of the reserve asset are in its own decimals; amounts of points have 18 decimals.
///         Every event that changes the reserve or the points supply carries both *after* the
///         change, so the whole price history can be rebuilt from logs alone.
interface IDividendPool {
    // ---------------------------------------------------------------- errors

    /// @dev `merchant` is not registered, or was revoked.
    error PoolUnknownMerchant(address merchant);
    /// @dev `(merchant, orderId)` was already checked out.
    error PoolOrderReplayed(address merchant, bytes32 orderId);
    /// @dev `holder` already spent points at `merchant` for `orderId`.
    error PoolSpendReplayed(address merchant, address holder, bytes32 orderId);
    /// @dev Minting `requested` points would exceed the merchant's cap; `remaining` is left today.
    error PoolDailyCapExceeded(address merchant, uint256 requested, uint256 remaining);
    /// @dev Minting `requested` points would exceed the cap over all merchants; `remaining` is left today.
    error PoolGlobalDailyCapExceeded(uint256 requested, uint256 remaining);
    /// @dev A redemption would pay `payout`, less than the caller's `minPayout`.
    error PoolSlippage(uint256 payout, uint256 minPayout);
    /// @dev An amount that must be positive was zero (or rounded to nothing).
    error PoolZeroAmount();
    /// @dev A customer, merchant, admin or collector address was the zero address.
    error PoolZeroAddress();
    /// @dev Asked to redeem or spend `requested` points but only `balance` are held.
    error PoolInsufficientPoints(uint256 balance, uint256 requested);
    /// @dev A parameter `value` lies outside its hard bounds `[min, max]`.
    error PoolOutOfBounds(uint256 value, uint256 min, uint256 max);
    /// @dev The reserve asset delivered `received` where `expected` was sent (fee-on-transfer assets are refused).
    error PoolTransferShortfall(uint256 expected, uint256 received);
    /// @dev `caller` is owed no tax.
    error PoolNoTaxOwed(address caller);
    /// @dev A signed spend permission expired at `deadline`.
    error PoolPermissionExpired(uint256 deadline);
    /// @dev A signed spend permission was not signed by `holder` (nor approved by its ERC-1271 wallet).
    error PoolInvalidSignature(address holder);
    /// @dev The reserve asset has `decimals` decimals; at most 18 are supported.
    error PoolUnsupportedAsset(uint8 decimals);
    /// @dev A top-up while no points exist: it would belong to whoever mints next.
    error PoolNoPoints();
    /// @dev A top-up found `supply` points, more than the funder's `maxSupply` (points were minted in front of it).
    error PoolSupplyAboveLimit(uint256 supply, uint256 maxSupply);
    /// @dev Spending the whole supply would leave reserve that no point backs: redeem the last points instead.
    error PoolLastPoints();

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
    /// @notice `to` withdrew `amount` of the tax owed to it (the reserve is untouched).
    event TaxWithdrawn(address indexed to, uint256 amount, uint256 reserveAfter, uint256 supplyAfter);
    /// @notice `holder` cancelled every spend permission it signed; `nonce` is the one a new permission must use.
    event SpendPermissionsCancelled(address indexed holder, uint256 nonce);
    /// @notice A merchant's settings were set (registration, change or revocation).
    event MerchantSet(address indexed merchant, uint16 rateBps, uint256 dailyCap, bool active);
    /// @notice The redemption fee and the tax part of it were set.
    event FeesSet(uint16 feeBps, uint16 taxBps);
    /// @notice The share of each skim that goes into the pool was set.
    event PoolShareSet(uint16 poolShareBps);
    /// @notice The tax collector was set.
    event TaxCollectorSet(address indexed collector);
    /// @notice The daily mint cap over all merchants was set (points, 18 decimals).
    event GlobalDailyCapSet(uint256 cap);

    // ---------------------------------------------------------------- merchants

    /// @notice Report a sale of `saleAmount` to `customer`: pulls the pool's part of the skim from the
    ///         merchant (caller) in the reserve asset and mints points to `customer` — the rest of the
    ///         skim at face value, or less when that would be worth more than what the pool received.
    /// @dev Reverts if paused, if the caller is no active merchant, if `(caller, orderId)` was used,
    ///      or if the merchant's or the global daily cap would be exceeded.
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

    /// @notice Spend `points` of `holder` at the calling merchant for `orderId`, with the holder's
    ///         EIP-712 `Spend` permission (an EOA signature or an ERC-1271 wallet's approval).
    function spendFor(address holder, uint256 points, bytes32 orderId, uint256 deadline, bytes calldata signature)
        external;

    /// @notice Invalidate every spend permission the caller signed and has not used.
    function cancelSpendPermissions() external;

    /// @notice Add `amount` of the reserve asset to the pool (for example a marketing budget).
    /// @param maxSupply The most points the funder expects to exist: the top-up reverts if more
    ///        were minted in front of it, so nobody can mint just before a top-up and redeem after it.
    function fund(uint256 amount, uint256 maxSupply) external;

    /// @notice Send the caller all the tax owed to it (as current or former tax collector).
    function withdrawTax() external;

    // ---------------------------------------------------------------- views

    /// @notice The pool's accounted reserve (asset decimals); tokens sent by mistake are not counted.
    function reserve() external view returns (uint256);

    /// @notice Tax accrued and not yet withdrawn, owed to the current and former collectors (asset decimals).
    function taxAccrued() external view returns (uint256);

    /// @notice Tax owed to `account` (asset decimals).
    function taxOwed(address account) external view returns (uint256);

    /// @notice Reserve currency per whole point, 18-decimal fixed point; 0 when no points exist.
    function price() external view returns (uint256);

    /// @notice What redeeming `points` now would give: `payout` to the holder, `tax` to the collector,
    ///         `kept` in the pool (all in asset decimals).
    function quoteRedeem(uint256 points) external view returns (uint256 payout, uint256 tax, uint256 kept);

    /// @notice What a checkout of `saleAmount` by `merchant` would mint and pull into the pool now.
    function quoteCheckout(address merchant, uint256 saleAmount) external view returns (uint256 points, uint256 poolIn);

    /// @notice Points `holder` spent at `merchant` for `orderId` (0 if none).
    function spentPoints(address merchant, address holder, bytes32 orderId) external view returns (uint256);

    /// @notice Whether `merchant` already checked out `orderId`.
    function isCheckedOut(address merchant, bytes32 orderId) external view returns (bool);

    /// @notice The reserve asset (an ERC-20 stablecoin).
    function asset() external view returns (address);

    /// @notice The points token, created by and mintable only by this pool.
    function pointsToken() external view returns (address);
}
