// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
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
///    never falls on redeem and the last holder can redeem too. No points exist exactly when the
///    reserve is 0: the last redemption empties the pool, spending or burning the whole supply is
///    refused, and a top-up needs points to exist.
/// 3. No role can take reserve out: only `redeem` (and `withdrawTax`, for accrued tax) send the asset.
/// 4. Redemption is never paused: pausing stops `checkout`, `spend` and `spendFor` only.
/// 5. Every event that changes the reserve or the supply carries both after the change
///    (direct burns on the token emit `PointsBurned` with the same two figures).
/// 6. The bytecode is reproducible: the compiler version and settings are pinned in the repository.
///
/// Nobody profits from the price through the pool (SPEC §2, §5): a checkout never mints points whose
/// cash-out value exceeds what the pool received (the mint bound), a top-up reverts if points were
/// minted in front of it (`maxSupply`), and the parameters that move value — fee, tax, pool share,
/// tax collector, global cap — change only through the `PARAMETER_ADMIN_ROLE`, which deployments give
/// to a `TimelockController`, so every change is public before it takes effect.
///
/// @dev Fee-on-transfer or otherwise lossy reserve assets are refused: every transfer in must credit
///      exactly the amount sent, or the call reverts with `PoolTransferShortfall`. Rounding always
///      favours the pool: `poolIn` and the fee round up; the minted points, the redeemed `gross` and
///      the tax round down.
contract DividendPool is
    IDividendPool,
    AccessControlDefaultAdminRules,
    EIP712,
    Nonces,
    Pausable,
    ReentrancyGuardTransient
{
    using SafeERC20 for IERC20;

    /// @notice Role that may pause and unpause checkouts and spending.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Role that registers, changes and revokes merchants (within the hard bounds).
    bytes32 public constant MERCHANT_MANAGER_ROLE = keccak256("MERCHANT_MANAGER_ROLE");
    /// @notice Role that sets the fees, pool share, tax collector and global cap; held by a timelock.
    bytes32 public constant PARAMETER_ADMIN_ROLE = keccak256("PARAMETER_ADMIN_ROLE");

    uint256 private constant BPS = 10_000;
    /// @notice Hard bounds for a merchant's skim rate (1%–50%).
    uint16 public constant MIN_RATE_BPS = 100;
    uint16 public constant MAX_RATE_BPS = 5_000;
    /// @notice Hard bounds for the pool's share of each skim (10%–50%).
    uint16 public constant MIN_POOL_SHARE_BPS = 1_000;
    uint16 public constant MAX_POOL_SHARE_BPS = 5_000;
    /// @notice Hard bound for the redemption fee (at most 20%); the tax is part of the fee.
    uint16 public constant MAX_FEE_BPS = 2_000;
    /// @notice Hard bounds for a daily mint cap, per merchant or over all merchants, in points (18 decimals).
    uint256 public constant MIN_DAILY_CAP = 1e18;
    uint256 public constant MAX_DAILY_CAP = 1e10 * 1e18;
    /// @notice Largest sale a checkout accepts, in asset units: far above any real sale, and low
    ///         enough that the points (skim × 10**(18 − decimals)) can never overflow.
    uint256 public constant MAX_SALE_AMOUNT = type(uint128).max;

    /// @dev EIP-712 type of a holder's permission for a merchant to spend points on their behalf.
    bytes32 public constant SPEND_TYPEHASH = keccak256(
        "Spend(address holder,address merchant,uint256 points,bytes32 orderId,uint256 nonce,uint256 deadline)"
    );

    /// @dev One storage slot per merchant (caps fit 96 bits: MAX_DAILY_CAP < 2**96).
    struct Merchant {
        uint16 rateBps;
        bool active;
        uint40 day; // UTC day (timestamp / 1 days) that `mintedToday` counts
        uint96 dailyCap;
        uint96 mintedToday;
    }

    /// @dev The reserve and what all merchants minted on `day`, in one slot: every checkout writes
    ///      both. 112 bits hold any real reserve (5e33 base units); writes are range-checked.
    struct Book {
        uint112 reserve;
        uint40 day;
        uint104 mintedToday; // <= the global cap < 2**96
    }

    // Declared first so they share a slot with Pausable's flag: checkouts and redemptions read them.
    /// @notice Redemption fee and the tax part of it, in basis points of the gross value.
    uint16 public feeBps = 1_000;
    uint16 public taxBps = 600;
    /// @notice Share of each skim that goes into the pool, in basis points.
    uint16 public poolShareBps = 3_000;
    uint96 private _globalDailyCap;

    Book private _book;
    /// @notice Receiver of the tax that accrues from now on (pulls it with `withdrawTax`).
    address public taxCollector;

    IERC20 private immutable _asset;
    PointsToken private immutable _points;
    /// @dev 10**(18 - asset decimals): one reserve unit at face value in point units.
    uint256 private immutable _scale;

    /// @dev All tax not yet withdrawn; `_formerTaxTotal` of it is owed to former collectors.
    uint256 private _taxAccrued;
    uint256 private _formerTaxTotal;
    mapping(address collector => uint256) private _formerTax;

    mapping(address merchant => Merchant) private _merchants;
    mapping(address merchant => mapping(bytes32 orderId => bool)) private _checkedOut;
    mapping(address merchant => mapping(address holder => mapping(bytes32 orderId => uint256))) private _spent;

    /// @param asset_ The reserve asset, an ERC-20 with at most 18 decimals and exact transfers.
    /// @param parameterAdmin Receives the default admin and parameter admin roles: a `TimelockController`.
    /// @param operator Receives the merchant manager and pauser roles.
    /// @param taxCollector_ Receives the tax that accrues.
    /// @param adminTransferDelay Delay of a default admin transfer (`AccessControlDefaultAdminRules`).
    /// @param globalDailyCap_ Most points all merchants together may mint per UTC day.
    constructor(
        IERC20Metadata asset_,
        address parameterAdmin,
        address operator,
        address taxCollector_,
        uint48 adminTransferDelay,
        uint256 globalDailyCap_,
        string memory name_,
        string memory symbol_
    ) AccessControlDefaultAdminRules(adminTransferDelay, parameterAdmin) EIP712("GreenPointsPool", "1") {
        if (operator == address(0) || taxCollector_ == address(0)) revert PoolZeroAddress();
        uint8 decimals = asset_.decimals();
        if (decimals > 18) revert PoolUnsupportedAsset(decimals);
        _checkBounds(globalDailyCap_, MIN_DAILY_CAP, MAX_DAILY_CAP);
        _asset = IERC20(address(asset_));
        _scale = 10 ** (18 - decimals);
        _points = new PointsToken(name_, symbol_);
        _grantRole(PARAMETER_ADMIN_ROLE, parameterAdmin);
        _grantRole(MERCHANT_MANAGER_ROLE, operator);
        _grantRole(PAUSER_ROLE, operator);
        taxCollector = taxCollector_;
        _globalDailyCap = uint96(globalDailyCap_); // <= MAX_DAILY_CAP < 2**96
        emit TaxCollectorSet(taxCollector_);
        emit FeesSet(feeBps, taxBps);
        emit PoolShareSet(poolShareBps);
        emit GlobalDailyCapSet(globalDailyCap_);
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
        Merchant memory m = _activeMerchant(msg.sender);
        if (_checkedOut[msg.sender][orderId]) revert PoolOrderReplayed(msg.sender, orderId);
        uint256 supply = _points.totalSupply();
        uint256 poolIn;
        (points, poolIn) = _quoteCheckout(m.rateBps, saleAmount, supply);
        if (points == 0) revert PoolZeroAmount();
        _checkedOut[msg.sender][orderId] = true;
        uint256 reserveAfter = _useDailyCaps(msg.sender, m, points, poolIn);
        // Asset in before points out, so the reserve backs every point at every step (a shortfall
        // reverts the whole checkout, the accounting above included).
        _pullExact(msg.sender, poolIn);
        _points.mint(customer, points);
        emit CheckedOut(msg.sender, customer, orderId, saleAmount, points, poolIn, reserveAfter, supply + points);
    }

    // ================================================================ holders

    /// @inheritdoc IDividendPool
    function redeem(uint256 points, uint256 minPayout) external nonReentrant returns (uint256 payout) {
        if (points == 0) revert PoolZeroAmount();
        uint256 balance = _points.balanceOf(msg.sender);
        if (balance < points) revert PoolInsufficientPoints(balance, points);
        uint256 supply = _points.totalSupply();
        uint256 tax;
        uint256 kept;
        (payout, tax, kept) = _quoteRedeem(points, supply);
        if (payout < minPayout) revert PoolSlippage(payout, minPayout);
        // payout + tax <= gross <= reserve (gross = points * reserve / supply with points <= supply);
        // the last redemption has gross = reserve and kept = 0, so the pool ends empty.
        uint256 reserveAfter = _book.reserve - payout - tax;
        _book.reserve = uint112(reserveAfter); // below the current reserve
        _taxAccrued += tax;
        // Burn before paying out: a re-entrant asset sees the final state (and is blocked anyway).
        _points.burnByPool(msg.sender, points);
        if (payout > 0) _asset.safeTransfer(msg.sender, payout);
        emit Redeemed(msg.sender, points, payout, tax, kept, reserveAfter, supply - points);
    }

    /// @inheritdoc IDividendPool
    function spend(address merchant_, uint256 points, bytes32 orderId) external nonReentrant whenNotPaused {
        _spend(msg.sender, merchant_, points, orderId);
    }

    /// @inheritdoc IDividendPool
    /// @dev The permission names the merchant, the amount, the order, the holder's current nonce and
    ///      a deadline; each permission works once (nonce), each (merchant, holder, order) once, and
    ///      `cancelSpendPermissions` voids every unused one.
    function spendFor(address holder, uint256 points, bytes32 orderId, uint256 deadline, bytes calldata signature)
        external
        nonReentrant
        whenNotPaused
    {
        if (block.timestamp > deadline) revert PoolPermissionExpired(deadline);
        bytes32 structHash =
            keccak256(abi.encode(SPEND_TYPEHASH, holder, msg.sender, points, orderId, _useNonce(holder), deadline));
        if (!SignatureChecker.isValidSignatureNow(holder, _hashTypedDataV4(structHash), signature)) {
            revert PoolInvalidSignature(holder);
        }
        _spend(holder, msg.sender, points, orderId);
    }

    /// @inheritdoc IDividendPool
    function cancelSpendPermissions() external {
        uint256 used = _useNonce(msg.sender);
        emit SpendPermissionsCancelled(msg.sender, used + 1);
    }

    /// @inheritdoc IDividendPool
    function fund(uint256 amount, uint256 maxSupply) external nonReentrant {
        if (amount == 0) revert PoolZeroAmount();
        uint256 supply = _points.totalSupply();
        if (supply == 0) revert PoolNoPoints();
        if (supply > maxSupply) revert PoolSupplyAboveLimit(supply, maxSupply);
        _pullExact(msg.sender, amount);
        uint256 reserveAfter = _book.reserve + amount;
        _book.reserve = SafeCast.toUint112(reserveAfter);
        emit Funded(msg.sender, amount, reserveAfter, supply);
    }

    /// @inheritdoc IDividendPool
    function withdrawTax() external nonReentrant {
        uint256 former = _formerTax[msg.sender];
        uint256 current = msg.sender == taxCollector ? _taxAccrued - _formerTaxTotal : 0;
        uint256 amount = former + current;
        if (amount == 0) revert PoolNoTaxOwed(msg.sender);
        if (former != 0) {
            _formerTax[msg.sender] = 0;
            _formerTaxTotal -= former;
        }
        _taxAccrued -= amount;
        _asset.safeTransfer(msg.sender, amount);
        emit TaxWithdrawn(msg.sender, amount, _book.reserve, _points.totalSupply());
    }

    // ================================================================ admin

    /// @notice Register, change or revoke (`active = false`) a merchant. Merchant manager only.
    /// @dev Keeps the merchant's minted total for the current day, so re-registering does not reset the cap.
    function setMerchant(address merchant_, uint16 rateBps, uint256 dailyCap, bool active)
        external
        onlyRole(MERCHANT_MANAGER_ROLE)
    {
        if (merchant_ == address(0)) revert PoolZeroAddress();
        _checkBounds(rateBps, MIN_RATE_BPS, MAX_RATE_BPS);
        _checkBounds(dailyCap, MIN_DAILY_CAP, MAX_DAILY_CAP);
        Merchant storage m = _merchants[merchant_];
        m.rateBps = rateBps;
        m.dailyCap = uint96(dailyCap); // <= MAX_DAILY_CAP < 2**96
        m.active = active;
        emit MerchantSet(merchant_, rateBps, dailyCap, active);
    }

    /// @notice Set the redemption fee and its tax part (`taxBps <= feeBps <= MAX_FEE_BPS`). Parameter admin only.
    function setFees(uint16 feeBps_, uint16 taxBps_) external onlyRole(PARAMETER_ADMIN_ROLE) {
        _checkBounds(feeBps_, 0, MAX_FEE_BPS);
        _checkBounds(taxBps_, 0, feeBps_);
        feeBps = feeBps_;
        taxBps = taxBps_;
        emit FeesSet(feeBps_, taxBps_);
    }

    /// @notice Set the pool's share of each skim. Parameter admin only.
    function setPoolShare(uint16 poolShareBps_) external onlyRole(PARAMETER_ADMIN_ROLE) {
        _checkBounds(poolShareBps_, MIN_POOL_SHARE_BPS, MAX_POOL_SHARE_BPS);
        poolShareBps = poolShareBps_;
        emit PoolShareSet(poolShareBps_);
    }

    /// @notice Set the tax collector. Tax accrued so far stays owed to the collector it accrued
    ///         under, which may still withdraw it. Parameter admin only.
    function setTaxCollector(address collector) external onlyRole(PARAMETER_ADMIN_ROLE) {
        if (collector == address(0)) revert PoolZeroAddress();
        uint256 current = _taxAccrued - _formerTaxTotal;
        if (current != 0) {
            _formerTax[taxCollector] += current;
            _formerTaxTotal += current;
        }
        taxCollector = collector;
        emit TaxCollectorSet(collector);
    }

    /// @notice Set the most points all merchants together may mint per UTC day. Parameter admin only.
    function setGlobalDailyCap(uint256 cap) external onlyRole(PARAMETER_ADMIN_ROLE) {
        _checkBounds(cap, MIN_DAILY_CAP, MAX_DAILY_CAP);
        _globalDailyCap = uint96(cap); // <= MAX_DAILY_CAP < 2**96
        emit GlobalDailyCapSet(cap);
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
        return _book.reserve;
    }

    /// @inheritdoc IDividendPool
    function taxAccrued() external view returns (uint256) {
        return _taxAccrued;
    }

    /// @inheritdoc IDividendPool
    function taxOwed(address account) external view returns (uint256) {
        uint256 current = account == taxCollector ? _taxAccrued - _formerTaxTotal : 0;
        return _formerTax[account] + current;
    }

    /// @inheritdoc IDividendPool
    function price() external view returns (uint256) {
        uint256 supply = _points.totalSupply();
        if (supply == 0) return 0;
        return Math.mulDiv(_book.reserve, _scale * 1e18, supply);
    }

    /// @inheritdoc IDividendPool
    function quoteRedeem(uint256 points) external view returns (uint256 payout, uint256 tax, uint256 kept) {
        uint256 supply = _points.totalSupply();
        if (points > supply) revert PoolInsufficientPoints(supply, points);
        return _quoteRedeem(points, supply);
    }

    /// @inheritdoc IDividendPool
    function quoteCheckout(address merchant_, uint256 saleAmount) external view returns (uint256 points, uint256 poolIn) {
        return _quoteCheckout(_activeMerchant(merchant_).rateBps, saleAmount, _points.totalSupply());
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
        Merchant memory m = _merchants[account];
        mintedToday = m.day == _today() ? m.mintedToday : 0;
        return (m.rateBps, m.dailyCap, m.active, mintedToday);
    }

    /// @notice The most points all merchants together may mint per UTC day.
    function globalDailyCap() external view returns (uint256) {
        return _globalDailyCap;
    }

    /// @notice Points all merchants together minted on the current UTC day.
    function globalMintedToday() external view returns (uint256) {
        Book memory book = _book;
        return book.day == _today() ? book.mintedToday : 0;
    }

    /// @inheritdoc IDividendPool
    function isCheckedOut(address merchant_, bytes32 orderId) external view returns (bool) {
        return _checkedOut[merchant_][orderId];
    }

    /// @inheritdoc IDividendPool
    function spentPoints(address merchant_, address holder, bytes32 orderId) external view returns (uint256) {
        return _spent[merchant_][holder][orderId];
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
        mapping(bytes32 => uint256) storage spent = _spent[merchant_][holder];
        if (spent[orderId] != 0) revert PoolSpendReplayed(merchant_, holder, orderId);
        uint256 balance = _points.balanceOf(holder);
        if (balance < points) revert PoolInsufficientPoints(balance, points);
        uint256 supplyAfter = _points.totalSupply() - points;
        // With no points left the reserve would back nothing; the last points are redeemed instead.
        if (supplyAfter == 0) revert PoolLastPoints();
        spent[orderId] = points;
        _points.burnByPool(holder, points);
        emit Spent(holder, merchant_, orderId, points, _book.reserve, supplyAfter);
    }

    function _activeMerchant(address account) private view returns (Merchant memory m) {
        m = _merchants[account];
        if (!m.active) revert PoolUnknownMerchant(account);
    }

    /// @dev Counts `points` against the merchant's and the global cap of the current UTC day and adds
    ///      `poolIn` to the reserve: one write to the merchant's slot and one to the book.
    function _useDailyCaps(address account, Merchant memory m, uint256 points, uint256 poolIn)
        private
        returns (uint256 reserveAfter)
    {
        uint40 today = _today();
        uint256 minted = m.day == today ? m.mintedToday : 0;
        uint256 remaining = m.dailyCap > minted ? m.dailyCap - minted : 0;
        if (points > remaining) revert PoolDailyCapExceeded(account, points, remaining);
        Book memory book = _book;
        uint256 globalMinted = book.day == today ? book.mintedToday : 0;
        uint256 globalCap = _globalDailyCap;
        uint256 globalRemaining = globalCap > globalMinted ? globalCap - globalMinted : 0;
        if (points > globalRemaining) revert PoolGlobalDailyCapExceeded(points, globalRemaining);
        reserveAfter = book.reserve + poolIn;
        // The minted sums stay within their caps, and every cap is below 2**96.
        Merchant storage stored = _merchants[account];
        stored.day = today;
        stored.mintedToday = uint96(minted + points);
        _book = Book({reserve: SafeCast.toUint112(reserveAfter), day: today, mintedToday: uint104(globalMinted + points)});
    }

    /// @dev Points and pool-in of a sale. The points are the skim's rest at face value, bounded
    ///      while points exist so that their cash-out value after the fee never exceeds `poolIn`:
    ///      `points <= poolIn × supply / (reserve × (1 − fee))`, rounded down.
    function _quoteCheckout(uint16 rateBps, uint256 saleAmount, uint256 supply)
        private
        view
        returns (uint256 points, uint256 poolIn)
    {
        if (saleAmount > MAX_SALE_AMOUNT) revert PoolOutOfBounds(saleAmount, 0, MAX_SALE_AMOUNT);
        // saleAmount <= 2**128 and both rates < 2**14: the products cannot overflow.
        uint256 skim = saleAmount * rateBps / BPS;
        poolIn = Math.ceilDiv(skim * poolShareBps, BPS);
        // poolShareBps <= 50%, so poolIn <= skim.
        points = (skim - poolIn) * _scale;
        uint256 reserve_ = _book.reserve;
        if (supply != 0 && reserve_ != 0) {
            uint256 bound = Math.mulDiv(poolIn * BPS, supply, reserve_ * (BPS - feeBps));
            if (bound < points) points = bound;
        }
    }

    /// @dev The pro-rata share less the fee; the last redemption pays only the tax, since the
    ///      kept share would have no holder left.
    function _quoteRedeem(uint256 points, uint256 supply)
        private
        view
        returns (uint256 payout, uint256 tax, uint256 kept)
    {
        if (supply == 0) return (0, 0, 0);
        uint256 gross = Math.mulDiv(points, _book.reserve, supply);
        tax = Math.mulDiv(gross, taxBps, BPS);
        // tax <= fee <= gross (taxBps <= feeBps <= BPS).
        if (points == supply) return (gross - tax, tax, 0);
        uint256 fee = Math.mulDiv(gross, feeBps, BPS, Math.Rounding.Ceil);
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
