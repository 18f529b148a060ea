"""Opaque keyset cursors: a position in a listing, bound to that listing, with an integrity tag.

A cursor carries the last item's key (e.g. block number and log index) and is tied to the route
and filters it came from, so it cannot be replayed against another listing; a cursor that was
altered, truncated or made up fails its tag and is refused with a 400. The tag is a keyed BLAKE2b
digest: the key only needs to be the same on every API process behind one address (the listings
are public, so a forged position would reveal nothing).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence

from api.problems import bad_parameter

_TAG = 12


class Cursors:
    def __init__(self, key: str) -> None:
        self.key = hashlib.blake2b(key.encode(), digest_size=32).digest()

    def _tag(self, scope: str, payload: bytes) -> bytes:
        return hashlib.blake2b(scope.encode() + b"\0" + payload, key=self.key, digest_size=_TAG).digest()

    def encode(self, scope: str, key: Sequence[int | str]) -> str:
        payload = json.dumps(list(key), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._tag(scope, payload) + payload).decode().rstrip("=")

    def decode(self, scope: str, cursor: str, shape: Sequence[type]) -> list[int | str]:
        """The key in `cursor`, checked against `scope` and the types of `shape`; a 400 otherwise."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            tag, payload = raw[:_TAG], raw[_TAG:]
            if len(tag) != _TAG or tag != self._tag(scope, payload):
                raise ValueError
            key = json.loads(payload)
            if not isinstance(key, list) or len(key) != len(shape):
                raise ValueError
            if any(type(v) is not t for v, t in zip(key, shape, strict=True)):
                raise ValueError
        except ValueError:
            raise bad_parameter(
                "cursor", "not a cursor of this listing (altered, truncated or from elsewhere)"
            ) from None
        return key
