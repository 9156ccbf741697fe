"""API keys out of every error text and log line.

Providers sometimes echo the key they were given: Gemini in a text answer or an error
body, OpenAI as ``sk-abc***...wxyz`` in a 401, an SDK in its own retry log line.
``redact`` masks, in any text: the keys this process was configured with (registered by
the adapters with ``register_secret``), any run of eight or more of their characters
(a partial key), and anything shaped like a key (Google ``AIza...``, OpenAI
``sk-...`` including masked forms, JWTs such as Supabase keys, ``Bearer`` tokens,
``key=`` query values, ``x-goog-api-key`` / ``api-key`` headers).
``install_log_redaction`` puts ``RedactingFilter`` on the root logger, its handlers and
the SDK loggers (``google_genai``, ``httpx``, ``openai``) and wraps the log-record
factory, so records from any logger, including their exception text, are masked
before a handler sees them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

MASK = "[redacted]"
PARTIAL_MIN = 8
PIECE_SCAN_MAX = 512
SDK_LOGGERS = ("google_genai", "google.genai", "httpx", "httpcore", "openai", "supabase")

_PATTERNS = [
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),                                  # Google API key
    re.compile(r"\bsk-[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-]*"),               # masked OpenAI key
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),                                  # OpenAI key
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+"),  # JWT
]
_ASSIGNED = [  # keep the name, mask the value
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._\-~+/=]{8,}"),
    re.compile(r"(?i)([?&](?:key|api_key|apikey|access_token)=)[^&\s\"']+"),
    re.compile(r"(?i)((?:x-goog-api-key|api-key|x-api-key|apikey)[\"']?\s*[:=]\s*[\"']?)"
               r"[^\s\"',}]+"),
]
_TOKEN = re.compile(rf"[A-Za-z0-9_\-]{{{PARTIAL_MIN},}}")

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` (and any 8+ character piece of it) in every later redaction."""
    if secret and len(secret.strip()) >= PARTIAL_MIN:
        with _lock:
            _secrets.add(secret.strip())


def _pieces_of_secrets(token: str, secrets: Iterable[str]) -> bool:
    if len(token) > PIECE_SCAN_MAX:  # image data in a debug line: whole keys only
        return False
    for secret in secrets:
        if token in secret:
            return True
        # a token that carries a long piece of the key with other characters around it
        if len(token) > PARTIAL_MIN and any(
            token[i:i + PARTIAL_MIN] in secret for i in range(len(token) - PARTIAL_MIN + 1)
        ):
            return True
    return False


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every configured or key-shaped secret replaced by ``[redacted]``."""
    if not text:
        return text
    with _lock:
        known = set(_secrets)
    known.update(s.strip() for s in secrets if s and len(s.strip()) >= 4)
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    for pattern in _ASSIGNED:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    long_enough = [s for s in known if len(s) >= PARTIAL_MIN]
    if long_enough:
        text = _TOKEN.sub(
            lambda m: MASK if _pieces_of_secrets(m.group(), long_enough) else m.group(), text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, arguments and exception text; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    if getattr(record, "_viewgen_redacted", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the raw parts, masked
        message = f"{record.msg} {record.args}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._viewgen_redacted = True  # type: ignore[attr-defined]
    return record


_FILTER = RedactingFilter()
_installed = False


def install_log_redaction() -> None:
    """Mask secrets in every log record from now on (idempotent)."""
    global _installed
    with _lock:
        targets = [logging.getLogger(), *(logging.getLogger(n) for n in SDK_LOGGERS)]
        for logger in targets:
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
            for handler in logger.handlers:
                if _FILTER not in handler.filters:
                    handler.addFilter(_FILTER)
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True
