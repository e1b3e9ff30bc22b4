"""``PasswordHasherContract``: what every ``PasswordHasher`` does. Provide a fixture ``hasher``."""

from __future__ import annotations

from commerce_core.ports import PasswordHasher

__all__ = ["PasswordHasherContract"]

PASSPHRASE = "correct horse battery staple"  # noqa: S105 - a test passphrase


class PasswordHasherContract:
    def test_a_password_verifies_against_its_own_hash(self, hasher: PasswordHasher) -> None:
        assert hasher.verify(hasher.hash(PASSPHRASE), PASSPHRASE)

    def test_another_password_does_not_verify(self, hasher: PasswordHasher) -> None:
        stored = hasher.hash(PASSPHRASE)
        for wrong in ("", PASSPHRASE.upper(), PASSPHRASE + " ", PASSPHRASE[:-1]):
            assert not hasher.verify(stored, wrong), wrong

    def test_the_same_password_hashes_differently_each_time(self, hasher: PasswordHasher) -> None:
        # Salted: equal hashes would tell an attacker which accounts share a password.
        assert hasher.hash(PASSPHRASE) != hasher.hash(PASSPHRASE)

    def test_a_hash_does_not_contain_the_password(self, hasher: PasswordHasher) -> None:
        assert PASSPHRASE not in hasher.hash(PASSPHRASE)
        assert "battery" not in hasher.hash(PASSPHRASE)

    def test_a_malformed_hash_verifies_nothing_and_raises_nothing(
        self, hasher: PasswordHasher
    ) -> None:
        stored = hasher.hash(PASSPHRASE)
        for broken in ("", "x", "$", stored[: len(stored) // 2], stored + "$", "\x00" * 10):
            assert not hasher.verify(broken, PASSPHRASE), broken

    def test_unicode_and_long_passphrases_work(self, hasher: PasswordHasher) -> None:
        for password in ("pässwörd mit ümläuten 🔐", "密码密码密码密码密码密码", "p" * 128):
            assert hasher.verify(hasher.hash(password), password)
        # Normalisation is the caller's business: different code points are different passwords.
        assert not hasher.verify(hasher.hash("café"), "cafe\u0301")

    def test_a_fresh_hash_needs_no_rehash(self, hasher: PasswordHasher) -> None:
        assert hasher.needs_rehash(hasher.hash(PASSPHRASE)) is False
