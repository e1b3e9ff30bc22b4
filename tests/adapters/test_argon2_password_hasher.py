"""``Argon2PasswordHasher``: Argon2id with OWASP's parameters; a wrong password or a hash that is
not Argon2 at all is a plain ``False``, never an exception."""

from __future__ import annotations

import pytest

from adapters.passwords import Argon2PasswordHasher
from commerce_core import PasswordHasher
from commerce_core.testing.contracts import PasswordHasherContract


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher.fast_for_tests()


def test_it_implements_the_port(hasher: Argon2PasswordHasher) -> None:
    port: PasswordHasher = hasher
    assert port is hasher


def test_defaults_are_owasps_argon2id_parameters() -> None:
    stored = Argon2PasswordHasher().hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_password_verifies_against_its_hash(hasher: Argon2PasswordHasher) -> None:
    stored = hasher.hash("correct horse battery staple")
    assert stored != "correct horse battery staple"
    assert hasher.verify(stored, "correct horse battery staple")


def test_hashes_are_salted(hasher: Argon2PasswordHasher) -> None:
    assert hasher.hash("same") != hasher.hash("same")


def test_a_wrong_password_is_false(hasher: Argon2PasswordHasher) -> None:
    stored = hasher.hash("correct horse battery staple")
    assert hasher.verify(stored, "Correct horse battery staple") is False
    assert hasher.verify(stored, "") is False


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a hash",
        "fake$0011$abcdef",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$",
        "$argon2id$v=19$m=19456,t=2,p=1$ü$ü",
    ],
)
def test_a_malformed_hash_is_false_not_an_error(hasher: Argon2PasswordHasher, garbage: str) -> None:
    assert hasher.verify(garbage, "anything") is False
    assert hasher.needs_rehash(garbage) is True


def test_a_password_with_a_lone_surrogate_round_trips(hasher: Argon2PasswordHasher) -> None:
    # JSON "\ud800" decodes to a lone surrogate, which strict UTF-8 cannot encode.
    stored = hasher.hash("pass\ud800word")
    assert hasher.verify(stored, "pass\ud800word")
    assert not hasher.verify(stored, "password")


def test_needs_rehash_when_the_parameters_change(hasher: Argon2PasswordHasher) -> None:
    stored = hasher.hash("pw")
    assert hasher.needs_rehash(stored) is False
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert stronger.needs_rehash(stored) is True
    assert stronger.verify(stored, "pw")  # old hashes keep working meanwhile
    assert stronger.needs_rehash(stronger.hash("pw")) is False


class TestArgon2PasswordHasherContract(PasswordHasherContract):
    """The port's contract (the ``hasher`` fixture above: Argon2id at test parameters)."""
