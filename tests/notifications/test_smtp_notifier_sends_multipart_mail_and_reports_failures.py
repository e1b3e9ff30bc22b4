"""The SMTP adapter against a real SMTP server (aiosmtpd, in process): what arrives, how
failures are reported, and how ``SMTP_URL`` is read."""

from __future__ import annotations

import io

import pytest

from adapters.mail import ConsoleNotifier, SmtpNotifier, parse_smtp_url
from commerce_core import NotificationFailed, NotificationRejected, OutgoingMessage
from tests.support.smtp_server import Inbox, free_port, html_of, text_of

SENDER = "Mug Shop <orders@mugs.example>"


def _message(message_id: str = "order-paid:ord_1") -> OutgoingMessage:
    return OutgoingMessage(
        id=message_id,
        kind="order_confirmation",
        to="ada@example.com",
        subject="Order confirmation ord_1",
        text="Thank you for your order.\n",
        html="<p>Thank you for your order.</p>",
    )


def test_a_message_arrives_as_multipart_alternative_with_a_stable_message_id(
    smtp_server: Inbox,
) -> None:
    notifier = SmtpNotifier.from_url(smtp_server.url, sender=SENDER)

    notifier.send(_message())
    notifier.send(_message())  # a retry after a crash: the same message again

    first, second = smtp_server.to("ada@example.com")
    assert first.get_content_type() == "multipart/alternative"
    assert first["From"] == SENDER
    assert first["Subject"] == "Order confirmation ord_1"
    assert text_of(first) == "Thank you for your order.\n"
    assert "<p>Thank you for your order.</p>" in html_of(first)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@mugs.example>")
    assert "ord_1" not in first["Message-ID"]
    assert smtp_server.envelopes[0] == ("orders@mugs.example", ["ada@example.com"])
    assert _other_id(notifier, smtp_server) != first["Message-ID"]


def _other_id(notifier: SmtpNotifier, inbox: Inbox) -> str:
    notifier.send(_message("order-paid:ord_2"))
    return str(inbox.messages[-1]["Message-ID"])


def test_a_temporary_refusal_is_a_failure_to_retry_and_a_permanent_one_is_a_rejection(
    smtp_server: Inbox,
) -> None:
    notifier = SmtpNotifier.from_url(smtp_server.url, sender=SENDER)
    smtp_server.defer()
    with pytest.raises(NotificationFailed) as deferred:
        notifier.send(_message())
    smtp_server.refuse()
    with pytest.raises(NotificationRejected):
        notifier.send(_message())

    assert not isinstance(deferred.value, NotificationRejected)
    # The server's words may name the recipient: they stay out of the error.
    assert "ada@example.com" not in str(deferred.value)
    assert smtp_server.messages == []


def test_an_unreachable_server_is_a_failure_to_retry_not_a_crash() -> None:
    notifier = SmtpNotifier.from_url(f"smtp://127.0.0.1:{free_port()}", sender=SENDER, timeout=2)

    with pytest.raises(NotificationFailed) as failed:
        notifier.send(_message())

    assert not isinstance(failed.value, NotificationRejected)


def test_smtp_urls_say_host_port_tls_and_credentials() -> None:
    starttls = parse_smtp_url("smtp://shop%40mugs.example:p%40ss@mail.example:587?starttls=1")
    implicit = parse_smtp_url("smtps://mail.example")
    plain = parse_smtp_url("smtp://127.0.0.1:1025")

    assert (starttls.host, starttls.port, starttls.starttls) == ("mail.example", 587, True)
    assert (starttls.username, starttls.password) == ("shop@mugs.example", "p@ss")
    assert (implicit.port, implicit.implicit_tls, implicit.encrypted) == (465, True, True)
    assert (plain.port, plain.encrypted, plain.username) == (1025, False, None)
    assert "p@ss" not in repr(starttls)


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example",
        "smtp://",
        "smtp://mail.example:notaport",
        "smtp://mail.example?tls=1",
        "smtps://mail.example?starttls=1",
    ],
)
def test_a_malformed_smtp_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_smtp_url(url)


def test_the_console_notifier_writes_the_text_body_for_a_developer_to_read() -> None:
    stream = io.StringIO()

    ConsoleNotifier(stream).send(_message())

    written = stream.getvalue()
    assert "To: ada@example.com" in written
    assert "Subject: Order confirmation ord_1" in written
    assert "Thank you for your order." in written
    assert "<p>" not in written
