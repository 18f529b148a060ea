// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IDividendPool} from "./interfaces/IDividendPool.sol";

/// @title Green Points loyalty points
/// @notice A burnable ERC-20 (18 decimals) with EIP-2612 `permit`. Only the pool that created it can
///         mint, or burn on a holder's behalf when they redeem or spend. There is no admin: no role
///         can ever mint points outside the pool's rules. Points sent to the pool or to this token
///         would be lost, so such transfers are refused (`ERC20InvalidReceiver`); a direct burn of
///         the whole supply is refused too (`PointsLastPoints`): the last points are redeemed.
/// @dev Created by the `DividendPool` constructor, so `pool` is fixed for the token's life.
contract PointsToken is ERC20, ERC20Burnable, ERC20Permit {
    /// @notice The pool that created this token and alone may mint.
    address public immutable pool;

    /// @dev The caller is not the pool.
    error PointsOnlyPool(address caller);
    /// @dev Burning the whole supply would leave the pool's reserve backing no point: redeem instead.
    error PointsLastPoints();

    /// @notice A holder burned points directly (not through the pool): the supply fell, the
    ///         reserve stayed. Carries both after the burn, like every pool event.
    event PointsBurned(address indexed holder, uint256 amount, uint256 reserveAfter, uint256 supplyAfter);

    modifier onlyPool() {
        if (msg.sender != pool) revert PointsOnlyPool(msg.sender);
        _;
    }

    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) ERC20Permit(name_) {
        pool = msg.sender;
    }

    /// @notice Mint `amount` points to `to`. Pool only (at checkout).
    function mint(address to, uint256 amount) external onlyPool {
        _mint(to, amount);
    }

    /// @notice Burn `amount` points of `from` without an allowance. Pool only (redeem and spend,
    ///         which the holder called or signed for).
    function burnByPool(address from, uint256 amount) external onlyPool {
        _burn(from, amount);
    }

    /// @inheritdoc ERC20Burnable
    function burn(uint256 value) public override {
        super.burn(value);
        _emitBurned(_msgSender(), value);
    }

    /// @inheritdoc ERC20Burnable
    function burnFrom(address account, uint256 value) public override {
        super.burnFrom(account, value);
        _emitBurned(account, value);
    }

    /// @dev Refuses transfers to the pool and to this token, where points could never be used again.
    function _update(address from, address to, uint256 value) internal override {
        if (to == pool || to == address(this)) revert ERC20InvalidReceiver(to);
        super._update(from, to, value);
    }

    function _emitBurned(address holder, uint256 value) private {
        uint256 supply = totalSupply();
        // The pool's invariant: no points exist exactly when its reserve is 0 (see DividendPool).
        if (supply == 0 && value != 0) revert PointsLastPoints();
        emit PointsBurned(holder, value, IDividendPool(pool).reserve(), supply);
    }
}
