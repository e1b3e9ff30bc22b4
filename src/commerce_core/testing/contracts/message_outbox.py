"""``AccountMailContract``: the message outbox, password-reset tokens and sign-in addresses every
``UnitOfWork`` hands out (``uow.messages``, ``uow.password_resets``, ``uow.sign_in_addresses``).

Mixed into ``UnitOfWorkContract``; its fixture is the same ``new_uow``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from commerce_core.domain.notifications import MessageStatus, OutgoingMessage
from commerce_core.domain.password_resets import RESET_TOKEN_LIFETIME, PasswordResetToken
from commerce_core.ports import UnitOfWork
from commerce_core.testing.contracts._support import T0, new_key

__all__ = ["AccountMailContract"]

NewUow = Callable[[], UnitOfWork]


def _message(kind: str = "order_confirmation", *, sensitive: bool = False) -> OutgoingMessage:
    return OutgoingMessage(
        id=f"{kind}:{new_key()}",
        kind=kind,
        to="ada@example.com",
        subject="Your order",
        text="Thank you.\n",
        html="<p>Thank you.</p>",
        sensitive=sensitive,
    )


class AccountMailContract:
    def test_a_queued_message_is_kept_only_if_its_transaction_commits(
        self, new_uow: NewUow
    ) -> None:
        kept, dropped = _message(), _message()
        with new_uow() as uow:
            assert uow.messages.add(kept, T0) is True
            uow.commit()
        with new_uow() as uow:
            uow.messages.add(dropped, T0)
        with new_uow() as uow:
            stored = uow.messages.get(kept.id)
            assert stored is not None
            assert stored.message == kept
            assert stored.status is MessageStatus.PENDING
            assert stored.attempts == 0
            assert uow.messages.get(dropped.id) is None

    def test_a_message_id_is_queued_once(self, new_uow: NewUow) -> None:
        message = _message()
        with new_uow() as uow:
            assert uow.messages.add(message, T0) is True
            uow.commit()
        with new_uow() as uow:
            assert uow.messages.add(message, T0 + timedelta(minutes=1)) is False
            uow.commit()
        with new_uow() as uow:
            assert [m.id for m in uow.messages.due(T0 + timedelta(hours=1), 10)] == [message.id]

    def test_due_messages_come_oldest_first_and_a_claim_is_taken_once(
        self, new_uow: NewUow
    ) -> None:
        older, newer = _message(), _message()
        with new_uow() as uow:
            uow.messages.add(newer, T0 + timedelta(seconds=5))
            uow.messages.add(older, T0)
            uow.commit()
        with new_uow() as uow:
            assert [m.id for m in uow.messages.due(T0 + timedelta(seconds=10), 10)] == [
                older.id,
                newer.id,
            ]
            assert [m.id for m in uow.messages.due(T0 + timedelta(seconds=1), 10)] == [older.id]
            until = T0 + timedelta(minutes=5)
            assert uow.messages.claim(older.id, "sender-a", T0, until) is True
            assert uow.messages.claim(older.id, "sender-b", T0, until) is False
            uow.commit()
        with new_uow() as uow:
            # Held by a sender: not due for anyone else until the lease runs out.
            assert [m.id for m in uow.messages.due(T0 + timedelta(minutes=1), 10)] == [newer.id]
            claimed = uow.messages.get(older.id)
            assert claimed is not None
            assert claimed.attempts == 1
            assert claimed.claimed_by == "sender-a"
            later = T0 + timedelta(minutes=6)
            assert uow.messages.claim(older.id, "sender-b", later, later + timedelta(minutes=5))
            uow.commit()
        with new_uow() as uow:
            taken_over = uow.messages.get(older.id)
            assert taken_over is not None
            assert taken_over.attempts == 2
            assert taken_over.claimed_by == "sender-b"

    def test_a_failed_attempt_is_due_again_at_its_retry_time(self, new_uow: NewUow) -> None:
        message = _message()
        with new_uow() as uow:
            uow.messages.add(message, T0)
            uow.messages.claim(message.id, "sender-a", T0, T0 + timedelta(minutes=5))
            uow.commit()
        with new_uow() as uow:
            # Only the holder may report its attempt.
            uow.messages.mark_failed(
                message.id, "sender-b", retry_at=T0 + timedelta(hours=9), error="nope"
            )
            uow.messages.mark_failed(
                message.id, "sender-a", retry_at=T0 + timedelta(minutes=2), error="421 busy"
            )
            uow.commit()
        with new_uow() as uow:
            assert uow.messages.due(T0 + timedelta(minutes=1), 10) == []
            again = uow.messages.due(T0 + timedelta(minutes=2), 10)
            assert [m.id for m in again] == [message.id]
            assert again[0].last_error == "421 busy"
            assert again[0].claimed_by is None

    def test_a_message_given_up_or_sent_is_never_due_again(self, new_uow: NewUow) -> None:
        given_up, sent = _message(), _message("password_reset", sensitive=True)
        with new_uow() as uow:
            for message in (given_up, sent):
                uow.messages.add(message, T0)
                uow.messages.claim(message.id, "sender", T0, T0 + timedelta(minutes=5))
            uow.commit()
        with new_uow() as uow:
            uow.messages.mark_failed(given_up.id, "sender", retry_at=None, error="550 no such user")
            uow.messages.mark_sent(sent.id, T0 + timedelta(seconds=1), forget_body=True)
            uow.commit()
        with new_uow() as uow:
            assert uow.messages.due(T0 + timedelta(days=1), 10) == []
            failed = uow.messages.get(given_up.id)
            done = uow.messages.get(sent.id)
            assert failed is not None
            assert failed.status is MessageStatus.FAILED
            assert done is not None
            assert done.status is MessageStatus.SENT
            assert done.sent_at == T0 + timedelta(seconds=1)
            # A reset link is not kept once it was sent.
            assert (done.message.text, done.message.html) == ("", "")
            assert done.message.to == sent.to

    def test_a_reset_token_is_used_once_and_only_before_it_expires(self, new_uow: NewUow) -> None:
        fresh = PasswordResetToken("a" * 64, "usr_1", T0, T0 + RESET_TOKEN_LIFETIME)
        stale = PasswordResetToken("b" * 64, "usr_1", T0, T0 + RESET_TOKEN_LIFETIME)
        with new_uow() as uow:
            uow.password_resets.add(fresh)
            uow.password_resets.add(stale)
            uow.commit()
        with new_uow() as uow:
            assert uow.password_resets.get(fresh.token_hash) == fresh
            assert uow.password_resets.use(fresh.token_hash, T0 + timedelta(minutes=1)) is True
            assert uow.password_resets.use(fresh.token_hash, T0 + timedelta(minutes=2)) is False
            assert uow.password_resets.use(stale.token_hash, T0 + RESET_TOKEN_LIFETIME) is False
            assert uow.password_resets.use("c" * 64, T0) is False
            uow.commit()
        with new_uow() as uow:
            used = uow.password_resets.get(fresh.token_hash)
            assert used is not None
            assert used.used_at == T0 + timedelta(minutes=1)

    def test_a_newer_reset_supersedes_the_older_ones_of_its_account(self, new_uow: NewUow) -> None:
        mine = [PasswordResetToken(c * 64, "usr_1", T0, T0 + RESET_TOKEN_LIFETIME) for c in "de"]
        theirs = PasswordResetToken("f" * 64, "usr_2", T0, T0 + RESET_TOKEN_LIFETIME)
        with new_uow() as uow:
            for token in (*mine, theirs):
                uow.password_resets.add(token)
            uow.commit()
        with new_uow() as uow:
            assert uow.password_resets.supersede_for_user("usr_1", T0) == 2
            uow.commit()
        with new_uow() as uow:
            assert not uow.password_resets.use(mine[0].token_hash, T0)
            assert uow.password_resets.use(theirs.token_hash, T0)

    def test_sign_in_addresses_are_remembered_per_account(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            assert uow.sign_in_addresses.knows_any("usr_1") is False
            assert uow.sign_in_addresses.remember("usr_1", "1" * 64, T0) is True
            uow.commit()
        with new_uow() as uow:
            assert uow.sign_in_addresses.knows_any("usr_1") is True
            assert uow.sign_in_addresses.knows_any("usr_2") is False
            assert uow.sign_in_addresses.remember("usr_1", "1" * 64, T0) is False
            assert uow.sign_in_addresses.remember("usr_2", "1" * 64, T0) is True
            uow.commit()
