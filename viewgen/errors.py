"""Typed errors, each carrying a message written for the person at the screen.

Pages and the CLI show ``str(error)`` (the ``user_message``) and never a traceback.
Provider errors say whether retrying may help, so the workflow can refund and the
page can offer the right next step.
"""

from __future__ import annotations


class ViewgenError(Exception):
    """Base of every error viewgen raises on purpose."""

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail

    def __str__(self) -> str:
        return self.user_message


class InvalidInput(ViewgenError):
    """The user's input cannot be used (empty text, not an image, too large ...)."""


class NotFound(ViewgenError):
    """The thing does not exist, or it is not this user's to see."""


class PermissionDenied(ViewgenError):
    """The user is signed in but may not do this (a member on the admin page)."""


class IllegalTransition(ViewgenError):
    """The workflow was asked to move between states the state machine forbids."""


class InsufficientCredits(ViewgenError):
    """The balance does not cover the price of the requested generation."""

    def __init__(self, user_message: str, *, needed: int, balance: int) -> None:
        super().__init__(user_message)
        self.needed = needed
        self.balance = balance


class ConfigurationError(ViewgenError):
    """A setting is missing or wrong; the message names the setting."""


class AuthError(ViewgenError):
    """Sign-up or sign-in failed (wrong password, email taken ...)."""


class StorageError(ViewgenError):
    """The blob store could not store or read an image."""


class ProviderError(ViewgenError):
    """A provider call failed. ``retryable`` says whether trying again may help."""

    retryable: bool = True

    def __init__(self, user_message: str, *, provider: str = "", detail: str | None = None,
                 retryable: bool | None = None) -> None:
        super().__init__(user_message, detail=detail)
        self.provider = provider
        if retryable is not None:
            self.retryable = retryable


class SafetyBlocked(ProviderError):
    """The provider refused to produce an image for safety reasons (names the reason)."""

    retryable = False


class NoImageReturned(ProviderError):
    """The provider answered, but with text only or no candidates."""


class QuotaExhausted(ProviderError):
    """The account's quota or rate limit is used up."""


class AuthenticationFailed(ProviderError):
    """The API key was rejected."""

    retryable = False


class ProviderTimeout(ProviderError):
    """The provider did not answer in time."""


class ProviderUnavailable(ProviderError):
    """The provider answered with a server error or could not be reached."""


class MalformedResponse(ProviderError):
    """The provider's answer could not be parsed."""


class Refused(ProviderError):
    """The model refused the request (OpenAI ``message.refusal``)."""

    retryable = False


class Truncated(ProviderError):
    """The model's answer was cut off before it was complete."""
