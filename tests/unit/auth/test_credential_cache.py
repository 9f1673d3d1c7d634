"""The verified-credential cache on its own (auth/credentials.py), with a clock the test moves."""

from __future__ import annotations

from smb_suite.auth import credentials
from smb_suite.auth.credentials import CredentialCache

HASH = "$argon2id$v=19$m=65536,t=3,p=4$stored"
APP_HASH = "$argon2id$v=19$m=65536,t=3,p=4$app"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_password_is_known_until_its_time_to_live_ends() -> None:
    clock = Clock()
    cache = CredentialCache(60, clock)
    cache.remember(7, HASH, "right password")
    assert cache.matched(7, [HASH], "right password") == HASH
    clock.now += 59
    assert cache.matched(7, [HASH], "right password") == HASH
    clock.now += 2
    assert cache.matched(7, [HASH], "right password") is None


def test_another_password_user_or_stored_hash_is_never_known() -> None:
    cache = CredentialCache(60, Clock())
    cache.remember(7, HASH, "right password")
    assert cache.matched(7, [HASH], "wrong password") is None
    assert cache.matched(8, [HASH], "right password") is None
    assert cache.matched(7, ["$argon2id$v=19$m=65536,t=3,p=4$changed"], "right password") is None  # new password
    assert cache.matched(7, [], "right password") is None  # a removed app password


def test_the_hash_a_password_matched_is_named_among_several() -> None:
    cache = CredentialCache(60, Clock())
    cache.remember(7, APP_HASH, "phone password")
    assert cache.matched(7, [HASH, APP_HASH], "phone password") == APP_HASH
    assert cache.matched(7, [HASH], "phone password") is None  # the web UI offers no app passwords


def test_a_time_to_live_of_zero_caches_nothing() -> None:
    cache = CredentialCache(0, Clock())
    cache.remember(7, HASH, "right password")
    assert cache.matched(7, [HASH], "right password") is None


def test_the_cache_keeps_at_most_its_limit_dropping_the_oldest() -> None:
    cache = CredentialCache(60, Clock())
    for user_id in range(credentials.MAX_ENTRIES + 1):
        cache.remember(user_id, HASH, "password")
    assert cache.matched(0, [HASH], "password") is None
    assert cache.matched(credentials.MAX_ENTRIES, [HASH], "password") == HASH


def test_memory_holds_no_password() -> None:
    cache = CredentialCache(60, Clock())
    cache.remember(7, HASH, "right password")
    assert not any(b"right password" in key for key in cache._entries)


def test_a_password_verified_by_one_worker_is_taken_by_another_sharing_its_key() -> None:
    key, now = bytes(range(32)), [0.0]
    first, second = CredentialCache(60, lambda: now[0]), CredentialCache(60, lambda: now[0])
    announced: list[int] = []
    first.share(key, announced.append)
    second.share(key, lambda entry: None)
    first.remember(7, "$argon2id$stored", "secret")
    for entry in announced:
        second.learn(entry)
    assert second.matched(7, ["$argon2id$stored"], "secret") == "$argon2id$stored"
    assert second.matched(7, ["$argon2id$stored"], "wrong") is None
    assert second.matched(7, ["$argon2id$changed"], "secret") is None  # a new password finds nothing
    now[0] = 61.0
    assert second.matched(7, ["$argon2id$stored"], "secret") is None
