"""Keys out of error texts and log records: configured keys, pieces of them, and
anything key-shaped, from any logger, including exception text."""

from __future__ import annotations

import logging

import pytest

from viewgen.redact import MASK, install_log_redaction, redact, register_secret

KEY = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"  # shape of a Google key, not a real one


def test_a_configured_key_and_pieces_of_it_are_masked() -> None:
    register_secret(KEY)
    text = redact(f"bad key {KEY}; starts {KEY[:12]}…; ends …{KEY[-10:]}")
    assert KEY not in text and KEY[:12] not in text and KEY[-10:] not in text
    assert text.count(MASK) == 3


@pytest.mark.parametrize("secret", [
    "AIzaSyB" + "x" * 32,
    "sk-proj-" + "A1b2C3d4" * 5,
    "sk-abc1***********************wxyz",
    "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNpZw",
])
def test_key_shaped_strings_are_masked_without_being_configured(secret: str) -> None:
    assert secret not in redact(f"error: {secret} was refused")


@pytest.mark.parametrize(("text", "kept"), [
    ("GET https://x.example/v1?key=abcdef123456&alt=sse", "key=[redacted]&alt=sse"),
    ("Authorization: Bearer abcdefghijklmnop", "Bearer [redacted]"),
    ('{"x-goog-api-key": "abcdefghijkl"}', '"x-goog-api-key": "[redacted]"'),
])
def test_named_secrets_keep_their_name(text: str, kept: str) -> None:
    assert kept in redact(text)


def test_ordinary_text_is_untouched() -> None:
    text = ("Gemini rejected the request (HTTP 400 INVALID_ARGUMENT): model "
            "gemini-2.5-flash-image, seed 42, user 7c9e6679-7425-40de-944b-e07fc1f90ae7")
    assert redact(text) == text


def test_log_records_from_any_logger_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    register_secret(KEY)
    child = logging.getLogger("google_genai._api_client.deep")
    with caplog.at_level(logging.DEBUG):
        child.warning("Retrying request with key %s", KEY)
        logging.getLogger("somewhere.else").info("sk-%s", "z" * 30)
        try:
            raise ValueError(f"echoed {KEY}")
        except ValueError:
            logging.getLogger("httpx").exception("failed")
    assert KEY not in caplog.text and "z" * 30 not in caplog.text
    assert "Retrying request with key [redacted]" in caplog.text
    assert "echoed [redacted]" in caplog.text  # the traceback too
