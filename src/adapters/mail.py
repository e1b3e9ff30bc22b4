"""``Notifier`` adapters: ``SmtpNotifier`` (any mail server or relay) and ``ConsoleNotifier``.

``SMTP_URL`` says where and how to connect::

    smtp://user:password@mail.example.com:587?starttls=1   STARTTLS on the submission port
    smtps://user:password@mail.example.com                 implicit TLS (port 465)
    smtp://127.0.0.1:1025                                  plain, for a local catcher only

User and password are percent-decoded (``%40`` for ``@``). TLS verifies the server's
certificate against the system's trust store (``ssl.create_default_context``). Every network
step has a timeout, so a hung server costs one send, never the sending job.

Each message goes out as ``multipart/alternative`` (text, then HTML) with a ``Message-ID``
derived from the message's stable id, so a message sent twice after a crash (see
``commerce_core.use_cases.notifications``) carries the same ``Message-ID`` both times.

Errors: a temporary failure (unreachable, timed out, disconnected, a 4xx answer) raises
``NotificationFailed``, retried later; a permanent 5xx refusal raises ``NotificationRejected``.
Neither repeats the server's full answer into logs: it may name the recipient.

``ConsoleNotifier`` is the development default (no ``SMTP_URL``): it writes each message's
headers and text body to a stream, so ``make run`` shows password-reset links in the terminal.
Production refuses it (``webapp.config``), since the stream is the logs.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import sys
import threading
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import TYPE_CHECKING, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from commerce_core import NotificationFailed, NotificationRejected, OutgoingMessage

if TYPE_CHECKING:
    from commerce_core import Notifier

__all__ = ["ConsoleNotifier", "SmtpNotifier", "SmtpSettings", "build_email", "parse_smtp_url"]

DEFAULT_TIMEOUT = 10.0  # seconds, per network operation
_TRUE = ("1", "true", "yes", "on")


@attrs.frozen(repr=False)
class SmtpSettings:
    """Where to connect and how. ``repr`` leaves the password out (it may reach a traceback)."""

    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    @property
    def encrypted(self) -> bool:
        return self.implicit_tls or self.starttls

    def __repr__(self) -> str:
        tls = "smtps" if self.implicit_tls else ("starttls" if self.starttls else "plain")
        return f"SmtpSettings({self.host}:{self.port}, {tls}, user={self.username!r})"


def parse_smtp_url(url: str) -> SmtpSettings:
    """``SmtpSettings`` from an ``SMTP_URL``; ``ValueError`` (naming no secret) if malformed."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    query = parse_qs(parts.query)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"has unknown options: {', '.join(sorted(unknown))}")
    starttls = query.get("starttls", ["0"])[-1].lower() in _TRUE
    implicit = parts.scheme == "smtps"
    if implicit and starttls:
        raise ValueError("smtps:// is TLS already; starttls=1 is for smtp://")
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if implicit else (587 if starttls else 25)),
        implicit_tls=implicit,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _message_id(message: OutgoingMessage, sender: str) -> str:
    """The same ``Message-ID`` for every attempt at one message (the id names an order or a
    reset, so it is hashed rather than shown)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(message.id.encode()).hexdigest()[:40]}@{domain}>"


def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    """``message`` as a ``multipart/alternative`` email from ``sender``."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = _message_id(message, sender)
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


class SmtpNotifier:
    """Sends each message over a fresh SMTP connection (a few per minute at most: pooling
    connections would buy nothing and keep sockets open for servers to time out)."""

    def __init__(
        self, settings: SmtpSettings, *, sender: str, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._settings = settings
        self._sender = sender
        self._timeout = timeout
        self._tls = ssl.create_default_context()

    @classmethod
    def from_url(cls, url: str, *, sender: str, timeout: float = DEFAULT_TIMEOUT) -> SmtpNotifier:
        return cls(parse_smtp_url(url), sender=sender, timeout=timeout)

    def send(self, message: OutgoingMessage) -> None:
        email = build_email(message, self._sender)
        try:
            with self._connect() as smtp:
                if self._settings.username:
                    smtp.login(self._settings.username, self._settings.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _ in refused.recipients.values()]
            if all(code >= 500 for code in codes):
                raise NotificationRejected(f"recipient refused ({codes})") from None
            raise NotificationFailed(f"recipient deferred ({codes})") from None
        except smtplib.SMTPResponseException as answer:
            if answer.smtp_code >= 500:
                raise NotificationRejected(f"mail server refused ({answer.smtp_code})") from None
            raise NotificationFailed(f"mail server deferred ({answer.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as error:
            # Unreachable, timed out, disconnected, a TLS failure: try again later.
            raise NotificationFailed(f"mail server unreachable ({type(error).__name__})") from None

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        if settings.implicit_tls:
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=self._timeout, context=self._tls
            )
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=self._timeout)
        try:
            if settings.starttls:
                smtp.starttls(context=self._tls)
        except BaseException:
            smtp.close()
            raise
        return smtp


class ConsoleNotifier:
    """Writes each message (headers and text body) to ``stream`` (default: standard error,
    where the dev server logs)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> None:
        stream = self._stream or sys.stderr
        rule = "-" * 72
        with self._lock:
            stream.write(
                f"{rule}\nTo: {message.to}\nSubject: {message.subject}\n\n{message.text}{rule}\n"
            )
            stream.flush()


if TYPE_CHECKING:
    _smtp: type[Notifier] = SmtpNotifier
    _console: type[Notifier] = ConsoleNotifier
