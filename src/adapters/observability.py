"""Logs, the ``EventSink`` port, and Sentry: structured, and scrubbed of secrets and emails.

``configure_logging()`` makes every line on stdout one JSON object - our own (structlog) and the
standard library's alike (gunicorn, werkzeug, alembic, SQLAlchemy), because stdlib records are
routed through the same processors::

    {"event": "auth.login_failed", "reason": "wrong_password", "user_id": "usr_...",
     "request_id": "...", "level": "info", "logger": "commerce.events",
     "timestamp": "2026-01-01T12:00:00.000000Z"}

``scrub_sensitive`` runs on every line (and on every Sentry event): values under keys that name
a secret (password, token, secret, authorization, cookie, card, csrf ...) become
``"[redacted]"`` and email addresses anywhere in a string become ``j***@example.com``.

Exceptions are rendered - as JSON, on the console and for Sentry - with the texts of database
errors replaced by descriptions that quote no row or parameter value
(``adapters.database_errors``): PostgreSQL's ``DETAIL: Failing row contains (...)`` would
otherwise carry a password hash into a log line.

(The module is not called ``logging`` so that no ``import logging`` anywhere can pick it up
instead of the standard library.)
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import traceback
from collections.abc import Mapping
from typing import Any, TextIO

import sentry_sdk
import structlog
from structlog.typing import EventDict, ExcInfo, Processor, WrappedLogger

from adapters.database_errors import withheld_texts, withhold, withhold_in

__all__ = [
    "REDACTED",
    "StructlogEventSink",
    "configure_logging",
    "console_traceback",
    "init_sentry",
    "mask_emails",
    "scrub",
    "scrub_sensitive",
    "structured_exception",
]

REDACTED = "[redacted]"

# A key containing one of these names a secret (``password_hash``, ``refresh_token``,
# ``client_secret``, ``set-cookie``, ``card_number``, ``x-csrf-token`` ...). Substrings on
# purpose: over-redacting a count like ``tokens_revoked`` costs little, a leaked secret a lot.
SENSITIVE_KEY_PARTS = (
    "password",
    "passwd",
    "token",
    "secret",
    "authorization",
    "cookie",
    "card",
    "csrf",
    "api_key",
    "apikey",
    "private_key",
)
SENSITIVE_KEYS = frozenset({"pan", "cvc", "cvv", "iban", "pin"})

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")

# Loggers that libraries give handlers of their own; ours replace them so their lines are JSON.
ROUTED_LOGGERS = ("gunicorn.error", "gunicorn.access", "werkzeug", "alembic", "sqlalchemy")


# -- scrubbing ---------------------------------------------------------------------------------


def _sensitive(key: object) -> bool:
    # Keys repeat (every access line has the same ones): answer those from a bounded memo.
    return _sensitive_name(key) if isinstance(key, str) else _sensitive_name(str(key))


@functools.lru_cache(maxsize=4096)
def _sensitive_name(key: str) -> bool:
    name = key.lower()
    return name in SENSITIVE_KEYS or any(part in name for part in SENSITIVE_KEY_PARTS)


def mask_emails(text: str) -> str:
    """``"ada@example.com"`` -> ``"a***@example.com"``, for every address in ``text``."""
    if "@" not in text:  # no address without one; skips the regex for nearly every string
        return text
    return _EMAIL.sub(r"\1***@\2", text)


# Values that hold no text: nothing to mask or redact inside them (the common case, checked first).
_PLAIN = frozenset({int, float, bool, type(None)})


def scrub(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with secrets redacted (by key) and emails masked (in strings)."""
    if _depth > 20:  # a cycle or an absurdly deep structure: give up on it rather than recurse
        return REDACTED
    if type(value) in _PLAIN:  # exact types only: a subclass could render as anything
        return value
    if isinstance(value, str):
        return mask_emails(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if _sensitive(k) and v is not None else scrub(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v, _depth + 1) for v in value]
    return value


def scrub_sensitive(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: ``scrub`` the whole event dict (the event text included)."""
    scrubbed: EventDict = scrub(event_dict)
    return scrubbed


# -- exceptions --------------------------------------------------------------------------------

_STRUCTURED = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)


def structured_exception(exc_info: ExcInfo) -> list[dict[str, Any]]:
    """The exception as structured data (never with local variables, which hold passwords),
    database errors' texts withheld."""
    return withhold_in(_STRUCTURED(exc_info), withheld_texts(exc_info[1]))  # type: ignore[no-any-return]


def console_traceback(sio: TextIO, exc_info: ExcInfo) -> None:
    """A plain traceback for the console renderer, database errors' texts withheld."""
    text = "".join(traceback.format_exception(*exc_info))
    sio.write("\n" + withhold(text, withheld_texts(exc_info[1])))


# -- configuration -----------------------------------------------------------------------------


def _level_number(level: str) -> int:
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def configure_logging(
    *, json: bool = True, level: str = "INFO", stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library's logging to ``stream`` (stdout): JSON lines,
    or a colourless console format for development (``json=False``). Safe to call again."""
    threshold = _level_number(level)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Processor
    if json:
        exceptions: list[Processor] = [structlog.processors.ExceptionRenderer(structured_exception)]
        renderer = structlog.processors.JSONRenderer()
    else:
        exceptions = []  # the console renderer prints the traceback itself
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=console_traceback
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *exceptions,
            scrub_sensitive,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)
    for name in ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers.clear()
        routed.propagate = True
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Caching is safe across reconfiguration: rendering happens in the handler's formatter.
        cache_logger_on_first_use=True,
    )


# -- the EventSink port ------------------------------------------------------------------------

# Keys structlog or the renderer own; a field with such a name is kept under "<name>_".
_RESERVED = frozenset({"event", "level", "logger", "timestamp", "exc_info", "stack_info"})


class StructlogEventSink:
    """``EventSink``: each business or security event becomes one log line (INFO), alerts
    (``alert.*``) a WARNING line and, when Sentry is initialised, a Sentry message."""

    def __init__(self, logger_name: str = "commerce.events") -> None:
        self._log = structlog.stdlib.get_logger(logger_name)

    def emit(self, event: str, /, **fields: object) -> None:
        safe = {(f"{k}_" if k in _RESERVED else k): v for k, v in fields.items()}
        if event.startswith("alert."):
            self._log.warning(event, **safe)
            _alert_to_sentry(event, safe)
        else:
            self._log.info(event, **safe)


def _alert_to_sentry(event: str, fields: Mapping[str, object]) -> None:
    # A no-op unless init_sentry ran; before_send scrubs the fields like the log line.
    with sentry_sdk.new_scope() as scope:
        scope.set_context("alert", dict(fields))
        scope.set_tag("alert", event)
        sentry_sdk.capture_message(event, level="warning")


# -- Sentry ------------------------------------------------------------------------------------


def _scrub_sentry_hook(event_or_breadcrumb: Any, hint: Any) -> Any:
    """``before_send`` and ``before_breadcrumb``: both get a dict and a hint. Database errors'
    texts are withheld first, while they still read as raised (before emails are masked)."""
    exc_info = hint.get("exc_info") if isinstance(hint, Mapping) else None
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        event_or_breadcrumb = withhold_in(event_or_breadcrumb, withheld_texts(exc_info[1]))
    return scrub(event_or_breadcrumb)


_PRIVACY_OPTIONS = frozenset(
    {
        "send_default_pii",
        "data_collection",
        "max_request_body_size",
        "include_local_variables",
        "before_send",
        "before_breadcrumb",
    }
)


def init_sentry(
    dsn: str,
    environment: str,
    release: str | None = None,
    *,
    traces_sample_rate: float = 0.0,
    **options: Any,
) -> None:
    """Report errors (and alerts) to Sentry without personal data: no default PII, no request
    bodies, no local variables in stack frames, and every event and breadcrumb scrubbed.

    Further ``sentry_sdk.init`` ``options`` (e.g. ``transport`` in tests) are passed on, except
    that none of the privacy settings above can be overridden.
    """
    loosened = _PRIVACY_OPTIONS & options.keys()
    if loosened:
        raise ValueError(f"init_sentry keeps its privacy settings: {sorted(loosened)}")
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        # send_default_pii is left unset, which means False in every sentry-sdk 2.x; newer
        # releases deprecate setting it at all (in favour of data_collection, whose unset
        # default is the same "no personal data").
        max_request_body_size="never",
        include_local_variables=False,
        before_send=_scrub_sentry_hook,
        before_breadcrumb=_scrub_sentry_hook,
        traces_sample_rate=traces_sample_rate,
        **options,
    )
