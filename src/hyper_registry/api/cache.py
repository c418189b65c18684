"""A short-lived cache of verified tokens, so a read is not two database queries.

Only positive verifications are cached, for ``ttl`` seconds, in a bounded LRU.
A token revoked through this process is dropped at once; a token revoked elsewhere
(another replica, the CLI) stops working within ``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from hyper_registry.auth.tokens import Principal, TokenService

DEFAULT_TTL = 5.0
DEFAULT_SIZE = 4096


def token_id(plaintext: str) -> str | None:
    parts = plaintext.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "hr" else None


class TokenCache:
    def __init__(
        self,
        tokens: TokenService,
        *,
        ttl: float = DEFAULT_TTL,
        max_size: int = DEFAULT_SIZE,
    ) -> None:
        self._tokens = tokens
        self.ttl = ttl
        self._max = max_size
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def cached(self, plaintext: str) -> Principal | None:
        """The cached principal of ``plaintext``, if verified less than ``ttl`` seconds ago."""
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(plaintext)
            if hit is None:
                return None
            if hit[0] <= now:
                del self._items[plaintext]
                return None
            self._items.move_to_end(plaintext)
            return hit[1]

    def verify(self, plaintext: str) -> Principal | None:
        """Check ``plaintext`` (cached, else against the database)."""
        hit = self.cached(plaintext)
        if hit is not None:
            return hit
        if self.ttl <= 0:
            return self._tokens.verify(plaintext)
        principal = self._tokens.verify(plaintext)
        if principal is not None:
            with self._lock:
                self._items[plaintext] = (time.monotonic() + self.ttl, principal)
                self._items.move_to_end(plaintext)
                while len(self._items) > self._max:
                    self._items.popitem(last=False)
        return principal

    def forget(self, tid: str) -> None:
        """Drop every cached verification of the token with id ``tid``."""
        with self._lock:
            for key in [k for k in self._items if token_id(k) == tid]:
                del self._items[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
