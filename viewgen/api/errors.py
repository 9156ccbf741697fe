"""Every failure of the HTTP API as JSON ``{error, message}`` with one status code.

``viewgen.errors`` types are mapped here, in one table, most specific first: bad input
400, no or unknown credentials 401, not enough credits 402, not allowed 403, not found
(including another person's product, so ids leak nothing) 404, wrong state 409, a
refused request body 413, a request that does not fit the schema or a provider's
refusal of the content 422, the per-token rate limit 429 (with ``Retry-After``), and a
provider or store that is down or not configured 503. The message is the error's
``user_message``, written for a person; details and tracebacks stay in the server log.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from viewgen.errors import (
    AuthenticationFailed,
    AuthError,
    ConfigurationError,
    IllegalTransition,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProviderError,
    QuotaExhausted,
    Refused,
    SafetyBlocked,
    StorageError,
    ViewgenError,
)
from viewgen.signing import ExpiredLink

log = logging.getLogger(__name__)


class Unauthorized(AuthError):
    """No credentials, or credentials that name nobody (401 with WWW-Authenticate)."""


class RateLimited(ViewgenError):
    """This token made more requests this minute than ``VIEWGEN_API_RATE_PER_MINUTE``."""

    def __init__(self, user_message: str, *, retry_after_s: float) -> None:
        super().__init__(user_message)
        self.retry_after_s = retry_after_s


class BodyTooLarge(ViewgenError):
    """The request body is over the API's limit (refused before it is read whole)."""


class InvalidFeatures(InvalidInput):
    """Edited features that do not fit the feature record (422)."""


class NotAvailable(ViewgenError):
    """The server cannot do this at all right now (503)."""


# (type, status, code), most specific first: the first isinstance match wins
STATUS: tuple[tuple[type[ViewgenError], int, str], ...] = (
    (RateLimited, 429, "rate_limited"),
    (BodyTooLarge, 413, "body_too_large"),
    (Unauthorized, 401, "unauthorized"),
    (InsufficientCredits, 402, "insufficient_credits"),
    (ExpiredLink, 403, "link_expired"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (IllegalTransition, 409, "wrong_state"),
    (InvalidFeatures, 422, "invalid_features"),
    (InvalidInput, 400, "invalid_input"),
    (AuthError, 401, "unauthorized"),
    (SafetyBlocked, 422, "provider_refused"),
    (Refused, 422, "provider_refused"),
    (QuotaExhausted, 503, "provider_quota"),
    (AuthenticationFailed, 503, "provider_not_configured"),
    (ProviderError, 503, "provider_unavailable"),
    (ConfigurationError, 503, "not_configured"),
    (StorageError, 503, "storage_unavailable"),
    (NotAvailable, 503, "not_available"),
    (ViewgenError, 400, "invalid_request"),
)

_HTTP_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden",
               404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
               415: "unsupported_media_type", 422: "invalid_request",
               429: "rate_limited"}


def status_of(error: ViewgenError) -> tuple[int, str]:
    return status_of_type(type(error))


def status_of_type(kind: type[BaseException]) -> tuple[int, str]:
    for known, status, code in STATUS:
        if issubclass(kind, known):
            return status, code
    return 400, "invalid_request"


def code_of_outcome(type_name: str | None) -> str:
    """The error code for a failure a workflow step recorded by its type's name (the
    ``outcome`` of a ``generation_calls`` row): what the call would have answered had
    it waited, where an unknown type is a provider failure as ``_raise_from`` treats it."""
    import viewgen.errors as known

    kind = getattr(known, str(type_name or ""), None)
    if isinstance(kind, type) and issubclass(kind, ViewgenError):
        return status_of_type(kind)[1]
    return status_of_type(ProviderError)[1]


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


def error_response(error: ViewgenError) -> JSONResponse:
    status, code = status_of(error)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after_s)))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="viewgen"'
    if isinstance(error, InsufficientCredits):
        extra = {"needed": error.needed, "balance": error.balance}
    if status >= 500 or isinstance(error, ProviderError):
        # the type and the person's message only: a provider's raw detail stays out of logs
        log.warning("%s %s (%s): %s", status, code, type(error).__name__, error.user_message)
    return JSONResponse(error_body(code, error.user_message, **extra), status_code=status,
                        headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "The request does not match the API: " + "; ".join(parts) + "."


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into ``{error, message}``."""

    @app.exception_handler(ViewgenError)
    async def _viewgen(_: Request, exc: ViewgenError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", _validation_message(exc)),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "The request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is no such API route; see /docs."
        return JSONResponse(error_body(code, message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected API error")
        return JSONResponse(
            error_body("internal_error", "Something went wrong on the server; nothing was "
                       "charged for an unfinished step. Try again."), status_code=500)
