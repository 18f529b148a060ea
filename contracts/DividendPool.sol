// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IDividendPool} from "./interfaces/IDividendPool.sol";
import {PointsToken} from "./PointsToken.sol";

/// @title Green Points dividend pool (消费增值 reserve)
/// @notice Merchants route part of each sale into this pool at checkout and customers receive points;
///         holders redeem points for a pro-rata share of the reserve, or spend them at merchants.
///
/// Guarantees (SPEC §3), each tested:
/// 1. `asset.balanceOf(pool) >= reserve + taxAccrued` at every block: both only grow by what
///    arrived (exact-transfer check) and only shrink by what is sent out.
/// 2. Solvency: a redemption pays at most `points * reserve / supply` (rounded down), so the price
///    never falls on redeem and the last holder can redeem too.
/// 3. No role can take reserve out: only `redeem` (and `withdrawTax`, for accrued tax) send the asset.
/// 4. Redemption is never paused: pausing stops `checkout`, `spend` and `spendFor` only.
/// 5. Every state change emits an event carrying the reserve and the points supply after it
///    (direct burns on the token emit `PointsBurned` with the same two figures).
/// 6. The bytecode is reproducible: the compiler version and settings are pinned in the repository.
///
/// @dev Fee-on-transfer or otherwise lossy reserve assets are refused: every transfer in must credit
///      exactly the amount sent, or the call reverts with `PoolTransferShortfall`. Rounding always
///      favours the pool: `poolIn` and the fee round up, the redeemed `gross` and the tax round down.
contract DividendPool is IDividendPool, AccessControl, Pausable, ReentrancyGuard, EIP712, Nonces {
    using SafeERC20 for IERC20;

    /// @notice Role that may pause and unpause checkouts and spending.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    uint256 private constant BPS = 10_000;
    /// @notice Hard bounds for a merchant's skim rate (1%–50%).
    uint16 public constant MIN_RATE_BPS = 100;
    uint16 public constant MAX_RATE_BPS = 5_000;
    /// @notice Hard bounds for the pool's share of each skim (10%–50%).
    uint16 public constant MIN_POOL_SHARE_BPS = 1_000;
    uint16 public constant MAX_POOL_SHARE_BPS = 5_000;
    /// @notice Hard bound for the redemption fee (at most 20%); the tax is part of the fee.
    uint16 public constant MAX_FEE_BPS = 2_000;
    /// @notice Hard bounds for a merchant's daily mint cap, in points (18 decimals).
    uint256 public constant MIN_DAILY_CAP = 1e18;
    uint256 public constant MAX_DAILY_CAP = 1e12 * 1e18;
    /// @notice Largest sale a checkout accepts, in asset units: far above any real sale, and low
    ///         enough that the points (skim × 10**(18 − decimals)) can never overflow.
    uint256 public constant MAX_SALE_AMOUNT = type(uint128).max;

    /// @dev EIP-712 type of a holder's permission for a merchant to spend points on their behalf.
    bytes32 public constant SPEND_TYPEHASH = keccak256(
        "Spend(address holder,address merchant,uint256 points,bytes32 orderId,uint256 nonce,uint256 deadline)"
    );

    struct Merchant {
        uint16 rateBps;
        bool active;
        uint40 day; // UTC day (timestamp / 1 days) that `mintedToday` counts
        uint256 dailyCap;
        uint256 mintedToday;
    }

    IERC20 private immutable _asset;
    PointsToken private immutable _points;
    /// @dev 10**(18 - asset decimals): one reserve unit at face value in point units.
    uint256 private immutable _scale;

    uint256 private _reserve;
    uint256 private _taxAccrued;

    /// @notice Redemption fee and the tax part of it, in basis points of the gross value.
    uint16 public feeBps = 1_000;
    uint16 public taxBps = 600;
    /// @notice Share of each skim that goes into the pool, in basis points.
    uint16 public poolShareBps = 3_000;
    /// @notice Receiver of the accrued tax (pulls it with `withdrawTax`).
    address public taxCollector;

    mapping(address merchant => Merchant) private _merchants;
    mapping(address merchant => mapping(bytes32 orderId => bool)) private _checkedOut;
    mapping(address merchant => mapping(bytes32 orderId => bool)) private _spent;

    /// @param asset_ The reserve asset, an ERC-20 with at most 18 decimals and exact transfers.
    /// @param admin Receives the admin and pauser roles.
    /// @param taxCollector_ Receives the accrued tax.
    constructor(IERC20Metadata asset_, address admin, address taxCollector_, string memory name_, string memory symbol_)
        EIP712("GreenPointsPool", "1")
    {
        if (admin == address(0) || taxCollector_ == address(0)) revert PoolZeroAddress();
        uint8 decimals = asset_.decimals();
        if (decimals > 18) revert PoolUnsupportedAsset(decimals);
        _asset = IERC20(address(asset_));
        _scale = 10 ** (18 - decimals);
        _points = new PointsToken(name_, symbol_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        taxCollector = taxCollector_;
        emit TaxCollectorSet(taxCollector_);
        emit FeesSet(feeBps, taxBps);
        emit PoolShareSet(poolShareBps);
    }

    // ================================================================ merchants

    /// @inheritdoc IDividendPool
    function checkout(address customer, uint256 saleAmount, bytes32 orderId)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 points)
    {
        if (customer == address(0)) revert PoolZeroAddress();
        Merchant storage m = _activeMerchant(msg.sender);
        if (_checkedOut[msg.sender][orderId]) revert PoolOrderReplayed(msg.sender, orderId);
        uint256 poolIn;
        (points, poolIn) = _quoteCheckout(m.rateBps, saleAmount);
        if (points == 0) revert PoolZeroAmount();
        _useDailyCap(m, msg.sender, points);
        _checkedOut[msg.sender][orderId] = true;
        // Asset in before points out, so the reserve backs every point at every step.
        _pullExact(msg.sender, poolIn);
        _reserve += poolIn;
        _points.mint(customer, points);
        emit CheckedOut(msg.sender, customer, orderId, saleAmount, points, poolIn, _reserve, _points.totalSupply());
    }

    // ================================================================ holders

    /// @inheritdoc IDividendPool
    function redeem(uint256 points, uint256 minPayout) external nonReentrant returns (uint256 payout) {
        if (points == 0) revert PoolZeroAmount();
        uint256 balance = _points.balanceOf(msg.sender);
        if (balance < points) revert PoolInsufficientPoints(balance, points);
        uint256 tax;
        uint256 kept;
        (payout, tax, kept) = _quoteRedeem(points);
        if (payout < minPayout) revert PoolSlippage(payout, minPayout);
        // payout + tax <= gross <= reserve (gross = points * reserve / supply with points <= supply).
        _reserve -= payout + tax;
        _taxAccrued += tax;
        // Burn before paying out: a re-entrant asset sees the final state (and is blocked anyway).
        _points.burnByPool(msg.sender, points);
        if (payout > 0) _asset.safeTransfer(msg.sender, payout);
        emit Redeemed(msg.sender, points, payout, tax, kept, _reserve, _points.totalSupply());
    }

    /// @inheritdoc IDividendPool
    function spend(address merchant, uint256 points, bytes32 orderId) external nonReentrant whenNotPaused {
        _spend(msg.sender, merchant, points, orderId);
    }

    /// @notice Spend `points` of `holder` at the calling merchant for `orderId`, with the holder's
    ///         EIP-712 `Spend` permission instead of their transaction, so the holder pays no gas.
    /// @dev The permission names the merchant, the amount, the order, the holder's current nonce and
    ///      a deadline; each permission works once (nonce) and each order once (order id).
    function spendFor(address holder, uint256 points, bytes32 orderId, uint256 deadline, bytes calldata signature)
        external
        nonReentrant
        whenNotPaused
    {
        if (block.timestamp > deadline) revert PoolPermissionExpired(deadline);
        bytes32 structHash =
            keccak256(abi.encode(SPEND_TYPEHASH, holder, msg.sender, points, orderId, _useNonce(holder), deadline));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || signer != holder) revert PoolInvalidSignature(holder);
        _spend(holder, msg.sender, points, orderId);
    }

    /// @inheritdoc IDividendPool
    function fund(uint256 amount) external nonReentrant {
        if (amount == 0) revert PoolZeroAmount();
        _pullExact(msg.sender, amount);
        _reserve += amount;
        emit Funded(msg.sender, amount, _reserve, _points.totalSupply());
    }

    /// @inheritdoc IDividendPool
    function withdrawTax() external nonReentrant {
        if (msg.sender != taxCollector) revert PoolNotTaxCollector(msg.sender);
        uint256 amount = _taxAccrued;
        if (amount == 0) revert PoolZeroAmount();
        _taxAccrued = 0;
        _asset.safeTransfer(msg.sender, amount);
        emit TaxWithdrawn(msg.sender, amount);
    }

    // ================================================================ admin

    /// @notice Register, change or revoke (`active = false`) a merchant. Admin only.
    /// @dev Keeps the merchant's minted total for the current day, so re-registering does not reset the cap.
    function setMerchant(address merchant, uint16 rateBps, uint256 dailyCap, bool active)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (merchant == address(0)) revert PoolZeroAddress();
        _checkBounds(rateBps, MIN_RATE_BPS, MAX_RATE_BPS);
        _checkBounds(dailyCap, MIN_DAILY_CAP, MAX_DAILY_CAP);
        Merchant storage m = _merchants[merchant];
        m.rateBps = rateBps;
        m.dailyCap = dailyCap;
        m.active = active;
        emit MerchantSet(merchant, rateBps, dailyCap, active);
    }

    /// @notice Set the redemption fee and its tax part (`taxBps <= feeBps <= MAX_FEE_BPS`). Admin only.
    function setFees(uint16 feeBps_, uint16 taxBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkBounds(feeBps_, 0, MAX_FEE_BPS);
        _checkBounds(taxBps_, 0, feeBps_);
        feeBps = feeBps_;
        taxBps = taxBps_;
        emit FeesSet(feeBps_, taxBps_);
    }

    /// @notice Set the pool's share of each skim. Admin only.
    function setPoolShare(uint16 poolShareBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkBounds(poolShareBps_, MIN_POOL_SHARE_BPS, MAX_POOL_SHARE_BPS);
        poolShareBps = poolShareBps_;
        emit PoolShareSet(poolShareBps_);
    }

    /// @notice Set the tax collector; tax accrued so far goes to whoever withdraws it next. Admin only.
    function setTaxCollector(address collector) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (collector == address(0)) revert PoolZeroAddress();
        taxCollector = collector;
        emit TaxCollectorSet(collector);
    }

    /// @notice Stop checkouts and spending. Redemption, funding and tax withdrawal go on. Pauser only.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resume checkouts and spending. Pauser only.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ================================================================ views

    /// @inheritdoc IDividendPool
    function reserve() external view returns (uint256) {
        return _reserve;
    }

    /// @inheritdoc IDividendPool
    function taxAccrued() external view returns (uint256) {
        return _taxAccrued;
    }

    /// @inheritdoc IDividendPool
    function price() external view returns (uint256) {
        uint256 supply = _points.totalSupply();
        if (supply == 0) return 0;
        return Math.mulDiv(_reserve, _scale * 1e18, supply);
    }

    /// @inheritdoc IDividendPool
    function quoteRedeem(uint256 points) external view returns (uint256 payout, uint256 tax, uint256 kept) {
        if (points > _points.totalSupply()) revert PoolInsufficientPoints(_points.totalSupply(), points);
        return _quoteRedeem(points);
    }

    /// @inheritdoc IDividendPool
    function quoteCheckout(address merchant, uint256 saleAmount) external view returns (uint256 points, uint256 poolIn) {
        return _quoteCheckout(_activeMerchant(merchant).rateBps, saleAmount);
    }

    /// @inheritdoc IDividendPool
    function asset() external view returns (address) {
        return address(_asset);
    }

    /// @inheritdoc IDividendPool
    function pointsToken() external view returns (address) {
        return address(_points);
    }

    /// @notice A merchant's settings and the points it minted on the current UTC day.
    function merchant(address account)
        external
        view
        returns (uint16 rateBps, uint256 dailyCap, bool active, uint256 mintedToday)
    {
        Merchant storage m = _merchants[account];
        mintedToday = m.day == _today() ? m.mintedToday : 0;
        return (m.rateBps, m.dailyCap, m.active, mintedToday);
    }

    /// @notice Whether `merchant` already checked out `orderId`.
    function isCheckedOut(address merchant_, bytes32 orderId) external view returns (bool) {
        return _checkedOut[merchant_][orderId];
    }

    /// @notice Whether points were already spent at `merchant` for `orderId`.
    function isSpent(address merchant_, bytes32 orderId) external view returns (bool) {
        return _spent[merchant_][orderId];
    }

    /// @notice The EIP-712 domain separator used by `spendFor` permissions.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ================================================================ internals

    function _spend(address holder, address merchant_, uint256 points, bytes32 orderId) private {
        if (points == 0) revert PoolZeroAmount();
        _activeMerchant(merchant_);
        if (_spent[merchant_][orderId]) revert PoolOrderReplayed(merchant_, orderId);
        uint256 balance = _points.balanceOf(holder);
        if (balance < points) revert PoolInsufficientPoints(balance, points);
        _spent[merchant_][orderId] = true;
        _points.burnByPool(holder, points);
        emit Spent(holder, merchant_, orderId, points, _reserve, _points.totalSupply());
    }

    function _activeMerchant(address account) private view returns (Merchant storage m) {
        m = _merchants[account];
        if (!m.active) revert PoolUnknownMerchant(account);
    }

    function _useDailyCap(Merchant storage m, address account, uint256 points) private {
        uint40 today = _today();
        if (m.day != today) {
            m.day = today;
            m.mintedToday = 0;
        }
        uint256 remaining = m.dailyCap > m.mintedToday ? m.dailyCap - m.mintedToday : 0;
        if (points > remaining) revert PoolDailyCapExceeded(account, points, remaining);
        m.mintedToday += points;
    }

    function _quoteCheckout(uint16 rateBps, uint256 saleAmount) private view returns (uint256 points, uint256 poolIn) {
        _checkBounds(saleAmount, 0, MAX_SALE_AMOUNT);
        uint256 skim = Math.mulDiv(saleAmount, rateBps, BPS);
        poolIn = Math.mulDiv(skim, poolShareBps, BPS, Math.Rounding.Ceil);
        // poolShareBps <= 50%, so poolIn <= skim.
        points = (skim - poolIn) * _scale;
    }

    function _quoteRedeem(uint256 points) private view returns (uint256 payout, uint256 tax, uint256 kept) {
        uint256 supply = _points.totalSupply();
        if (supply == 0) return (0, 0, 0);
        uint256 gross = Math.mulDiv(points, _reserve, supply);
        uint256 fee = Math.mulDiv(gross, feeBps, BPS, Math.Rounding.Ceil);
        tax = Math.mulDiv(gross, taxBps, BPS);
        // fee <= gross (feeBps <= BPS) and tax <= fee (taxBps <= feeBps).
        payout = gross - fee;
        kept = fee - tax;
    }

    /// @dev Pull exactly `amount` of the asset from `from`, refusing assets that deliver less.
    function _pullExact(address from, uint256 amount) private {
        if (amount == 0) return;
        uint256 before = _asset.balanceOf(address(this));
        _asset.safeTransferFrom(from, address(this), amount);
        uint256 received = _asset.balanceOf(address(this)) - before;
        if (received != amount) revert PoolTransferShortfall(amount, received);
    }

    function _checkBounds(uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert PoolOutOfBounds(value, min, max);
    }

    function _today() private view returns (uint40) {
        return uint40(block.timestamp / 1 days);
    }
}
