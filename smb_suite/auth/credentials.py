"""Verified-credential cache: a password verified with argon2 lately is taken again without argon2, as
Dovecot's auth cache does, so a mail app that logs in every few minutes costs a keyed hash, not 64 MiB and
tens of milliseconds of argon2 (hundreds under load).

An entry is an HMAC-SHA256, under a random key made when the process starts (it never leaves the process),
of the user id, the stored argon2 hash the password matched (the account's or one of its app passwords) and
the password; it only says "this password matched this stored hash". The login path reads the user's row and
app passwords on every attempt, cached or not, and looks entries up with the hashes stored now: a changed
password, a revoked app password or a removed user finds nothing at once, whichever process (the CLI, the
admin UI, another worker) changed it. Suspension is read on every login too. Entries also expire after `ttl`
seconds (`[login] credential_cache_ttl`; 0 turns the cache off) and at most MAX_ENTRIES are kept.

Worker processes share their entries (`share`): the supervisor gives every worker one key, and each entry a
worker makes is announced to the others (over the change bus, as a number) and taken by them (`learn`), so a
mail app whose logins land on different workers pays argon2 once, not once per worker.

Only successes are cached: a wrong password never matches an entry, so it always goes to argon2 and to the
throttle (auth/throttle.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable

MAX_ENTRIES = 10_000  # ~100 bytes each


class CredentialCache:
    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, float] = OrderedDict()  # digest -> expiry, oldest first
        self._announce: Callable[[int], None] | None = None

    def share(self, key: bytes, announce: Callable[[int], None]) -> None:
        """Use the key the other workers use, and call `announce(entry)` for each entry made here."""
        self._key = key
        self._entries.clear()
        self._announce = announce

    def learn(self, entry: int) -> None:
        """Take an entry another worker made (announced by its `remember`)."""
        if self.ttl > 0 and 0 <= entry < 1 << 256:
            self._store(entry.to_bytes(32, "big"))

    def _digest(self, user_id: int, stored_hash: str, password: str) -> bytes:
        text = b"\0".join((b"%d" % user_id, stored_hash.encode(), password.encode("utf-8", "surrogatepass")))
        return hmac.digest(self._key, text, hashlib.sha256)

    def matched(self, user_id: int, stored_hashes: Iterable[str], password: str) -> str | None:
        """The stored hash this password was lately verified against, if any is still stored and fresh."""
        if self.ttl <= 0:
            return None
        now = self._clock()
        for stored_hash in stored_hashes:
            digest = self._digest(user_id, stored_hash, password)
            expires = self._entries.get(digest)
            if expires is None:
                continue
            if expires > now:
                return stored_hash
            del self._entries[digest]
        return None

    def remember(self, user_id: int, stored_hash: str, password: str) -> None:
        """argon2 said this password matches this stored hash."""
        if self.ttl <= 0:
            return
        digest = self._digest(user_id, stored_hash, password)
        self._store(digest)
        if self._announce is not None:
            self._announce(int.from_bytes(digest, "big"))

    def _store(self, digest: bytes) -> None:
        self._entries.pop(digest, None)
        self._entries[digest] = self._clock() + self.ttl
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
