// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TestStablecoin} from "./TestStablecoin.sol";

/// @title Test asset that burns 1% of every transfer (tests only)
/// @notice The pool must refuse it rather than credit more reserve than arrived.
contract FeeOnTransferToken is TestStablecoin {
    constructor() TestStablecoin("Fee USD", "FUSD", 6) {}

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = value / 100;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
