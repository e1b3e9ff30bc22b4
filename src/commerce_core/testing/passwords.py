"""``FakePasswordHasher``: the ``PasswordHasher`` port, fast, counting its calls."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["FakePasswordHasher"]


class FakePasswordHasher:
    """Salted SHA-256 (fast, for tests only) that counts its calls, so tests can prove that an
    unknown email costs the same hashing work as a wrong password."""

    def __init__(self) -> None:
        self.hash_calls = 0
        self.verify_calls = 0
        self.rehash_wanted = False

    def hash(self, password: str) -> str:
        self.hash_calls += 1
        salt = secrets.token_hex(8)
        return f"fake${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"

    def verify(self, password_hash: str, password: str) -> bool:
        self.verify_calls += 1
        try:
            _, salt, digest = password_hash.split("$")
        except ValueError:
            return False
        return secrets.compare_digest(
            digest, hashlib.sha256((salt + password).encode()).hexdigest()
        )

    def needs_rehash(self, password_hash: str) -> bool:
        return self.rehash_wanted
