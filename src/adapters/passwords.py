"""Password hashing with Argon2id (argon2-cffi), the ``PasswordHasher`` port's implementation.

Defaults follow the OWASP Password Storage Cheat Sheet's first Argon2id configuration: 19 MiB of
memory, 2 iterations, 1 lane. OWASP lists equivalent trade-offs (e.g. 46 MiB x 1, 12 MiB x 3);
memory is the cost an attacker's GPU pays for, iterations the one our CPU pays for. The memory
is per concurrent login, so a worker serving 20 logins at once needs ~400 MiB: raise it only with
that in mind. Stored hashes carry their parameters, so changing them later is safe:
``needs_rehash`` reports old hashes and the login use case re-hashes on the next success.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import VerificationError

__all__ = ["Argon2PasswordHasher"]

OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1


class Argon2PasswordHasher:
    """Argon2id hashes in the standard PHC string format (``$argon2id$v=19$m=...``)."""

    def __init__(
        self,
        *,
        time_cost: int = OWASP_TIME_COST,
        memory_cost: int = OWASP_MEMORY_KIB,
        parallelism: int = OWASP_PARALLELISM,
        hash_len: int = 32,
        salt_len: int = 16,
    ) -> None:
        """``memory_cost`` is in KiB."""
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )

    @classmethod
    def fast_for_tests(cls) -> Argon2PasswordHasher:
        """The cheapest parameters argon2 accepts (8 KiB, 1 iteration): a real Argon2id hash in
        microseconds. FOR TESTS ONLY - such hashes give no protection at all."""
        cheapest = argon2.profiles.CHEAPEST
        return cls(
            time_cost=cheapest.time_cost,
            memory_cost=cheapest.memory_cost,
            parallelism=cheapest.parallelism,
            hash_len=cheapest.hash_len,
            salt_len=cheapest.salt_len,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(_encode(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """True on a match; False on a mismatch and on anything that is not a valid Argon2
        hash (an empty or legacy column value must fail the login, not crash it)."""
        try:
            return self._hasher.verify(password_hash, _encode(password))
        except (VerificationError, ValueError):
            # VerifyMismatchError and corrupt hashes are VerificationErrors; InvalidHashError
            # (not an Argon2 string at all) and undecodable input are ValueErrors.
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters (or is not a valid Argon2 hash)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except ValueError:
            return True


def _encode(password: str) -> bytes:
    # JSON can carry a lone surrogate ("\ud800") that strict UTF-8 refuses to encode; hashing its
    # surrogate-preserving bytes keeps such a password working instead of raising.
    return password.encode("utf-8", "surrogatepass")
