// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TestStablecoin} from "./TestStablecoin.sol";

/// @title Test asset that calls back into a target during every transfer (tests only)
/// @notice Models a malicious or hook-bearing reserve asset: the pool's guard must make the
///         re-entrant call revert, and that revert is bubbled up so tests can see it.
contract ReentrantToken is TestStablecoin {
    address public hookTarget;
    bytes public hookData;

    constructor() TestStablecoin("Hook USD", "HUSD", 6) {}

    /// @notice Arm (or with `target == 0`, disarm) the call made on each transfer.
    function setHook(address target, bytes calldata data) external {
        hookTarget = target;
        hookData = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = hookTarget;
        if (target != address(0) && from != address(0) && to != address(0)) {
            hookTarget = address(0); // one shot, so the hook cannot loop
            (bool ok, bytes memory reason) = target.call(hookData);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(reason, 32), mload(reason))
                }
            }
        }
    }
}
