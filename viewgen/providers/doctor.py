"""Is each provider configured, and can we reach it? (``python -m viewgen doctor``)

``configuration_problems`` reads settings only (no network, no SDK import for the
offline setup) and says, naming the setting, what stops the chosen providers from
working: the app shows these at start instead of crashing. ``check_providers`` adds
one cheap probe per hosted provider (``models.get`` / ``models.retrieve``, a short
timeout, no retries). A key is only ever shown as "set" or "not set".
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewgen.settings import Settings

KEY_VARS = {"gemini": "GEMINI_API_KEY", "openai": "OPENAI_API_KEY"}
SELECTORS = {"image": "VIEWGEN_IMAGE_PROVIDER", "features": "VIEWGEN_FEATURE_PROVIDER"}
PROBE_TIMEOUT_S = 5.0


def missing_key_message(selector: str, provider: str) -> str:
    """The one sentence for "provider chosen, key missing" (app start, doctor, errors)."""
    return (
        f"{selector} is '{provider}' but {KEY_VARS[provider]} is not set (env or "
        f".streamlit/secrets.toml): set the key, or set {selector}=offline."
    )


def _key_set(settings: Settings, provider: str) -> bool:
    secret = getattr(settings, f"{provider}_api_key", None)
    return bool(secret is not None and secret.get_secret_value().strip())


def _roles(settings: Settings) -> list[tuple[str, str]]:
    return [("image", settings.image_provider), ("features", settings.feature_provider)]


def configuration_problems(settings: Settings) -> list[str]:
    """Every setting that stops the chosen providers from working, in words."""
    problems: list[str] = []
    hosted = set()
    for role, provider in _roles(settings):
        if provider == "offline":
            continue
        hosted.add(provider)
        if not _key_set(settings, provider):
            problems.append(missing_key_message(SELECTORS[role], provider))
    if not hosted:
        return problems
    if settings.provider_timeout_s <= 0:
        problems.append(
            f"VIEWGEN_PROVIDER_TIMEOUT_S is {settings.provider_timeout_s}; it must be a "
            "positive number of seconds (60 is a good value)."
        )
    if not 1 <= settings.provider_max_attempts <= 10:
        problems.append(
            f"VIEWGEN_PROVIDER_MAX_ATTEMPTS is {settings.provider_max_attempts}; use 1 to 10 "
            "(3 to 5 recommended)."
        )
    if settings.provider_concurrency < 0 or settings.provider_rpm < 0:
        problems.append(
            "VIEWGEN_PROVIDER_CONCURRENCY and VIEWGEN_PROVIDER_RPM must be 0 (no limit) or "
            "more."
        )
    if settings.provider_retry_initial_s < 0 or settings.provider_max_retry_wait_s < 0:
        problems.append(
            "VIEWGEN_PROVIDER_RETRY_INITIAL_S and VIEWGEN_PROVIDER_MAX_RETRY_WAIT_S must not "
            "be negative."
        )
    for provider in sorted(hosted):
        url = getattr(settings, f"{provider}_base_url", None)
        if url and not url.startswith(("http://", "https://")):
            problems.append(
                f"VIEWGEN_{provider.upper()}_BASE_URL is {url!r}; it must start with "
                "http:// or https://."
            )
    if settings.image_provider == "gemini":
        from viewgen.providers.gemini import ASPECT_RATIOS

        if settings.aspect_ratio not in ASPECT_RATIOS:
            problems.append(
                f"VIEWGEN_ASPECT_RATIO is {settings.aspect_ratio!r}; Gemini accepts "
                f"{', '.join(ASPECT_RATIOS)}."
            )
    return problems


@dataclass(frozen=True)
class ProviderCheck:
    """One role's provider: configured? reachable? (``reachable`` None: not probed)."""

    role: str
    provider: str
    model: str
    key: str  # "set" | "not set" | "not needed"
    configured: bool
    reachable: bool | None
    detail: str
    latency_ms: float | None = None
    error: str | None = None  # the error class of a failed probe

    @property
    def ok(self) -> bool:
        return self.configured and self.reachable is not False

    @property
    def status(self) -> str:
        if not self.configured:
            return "not configured"
        if self.reachable is None:
            return "configured (not probed)"
        if not self.reachable:
            if self.error == "AuthenticationFailed":
                return "KEY REJECTED"
            if self.error in ("ProviderTimeout", "ProviderUnavailable"):
                return "UNREACHABLE"
            return "PROBE FAILED"
        if self.latency_ms is None:
            return "ready"
        return f"reachable ({self.latency_ms:.0f} ms)"


def _model(settings: Settings, role: str, provider: str) -> str:
    if provider == "offline":
        return "embedded renderer" if role == "image" else "pixel measurement"
    if provider == "openai":
        return settings.openai_model
    return settings.gemini_model if role == "image" else settings.gemini_text_model


def _adapter(settings: Settings, role: str, provider: str):
    if provider == "openai":
        from viewgen.providers.openai_vision import OpenAIExtractor

        return OpenAIExtractor(settings)
    from viewgen.providers.gemini import GeminiExtractor, GeminiGenerator

    return GeminiGenerator(settings) if role == "image" else GeminiExtractor(settings)


def check_providers(settings: Settings, *, probe: bool,
                    timeout_s: float = PROBE_TIMEOUT_S) -> list[ProviderCheck]:
    """One check per role (image, features); with ``probe`` one cheap call each."""
    from viewgen.errors import ViewgenError

    checks: list[ProviderCheck] = []
    timeout_s = min(timeout_s, settings.provider_timeout_s) if (
        settings.provider_timeout_s > 0) else timeout_s
    for role, provider in _roles(settings):
        model = _model(settings, role, provider)
        if provider == "offline":
            checks.append(ProviderCheck(role, provider, model, "not needed", True, True,
                                        "embedded, no key and no network needed"))
            continue
        if not _key_set(settings, provider):
            checks.append(ProviderCheck(role, provider, model, "not set", False, None,
                                        missing_key_message(SELECTORS[role], provider)))
            continue
        try:
            adapter = _adapter(settings, role, provider)
        except ViewgenError as exc:
            checks.append(ProviderCheck(role, provider, model, "set", False, None, str(exc)))
            continue
        try:
            if not probe:
                checks.append(ProviderCheck(role, provider, model, "set", True, None,
                                            "key set; not probed"))
                continue
            started = time.perf_counter()
            try:
                found = adapter.probe(timeout_s)
            except ViewgenError as exc:
                checks.append(ProviderCheck(role, provider, model, "set", True, False,
                                            str(exc), error=type(exc).__name__))
                continue
            latency = (time.perf_counter() - started) * 1000
            checks.append(ProviderCheck(role, provider, model, "set", True, True,
                                        f"model found: {found}", latency))
        finally:
            adapter.close()
    return checks


def _unused_keys(settings: Settings) -> list[str]:
    notes = []
    in_use = {p for _, p in _roles(settings)}
    if _key_set(settings, "gemini") and "gemini" not in in_use:
        notes.append("GEMINI_API_KEY is set but unused: set VIEWGEN_IMAGE_PROVIDER=gemini "
                     "to draw the views with Gemini.")
    if _key_set(settings, "openai") and "openai" not in in_use:
        notes.append("OPENAI_API_KEY is set but unused: set VIEWGEN_FEATURE_PROVIDER=openai "
                     "to extract features with OpenAI.")
    return notes


def doctor_report(settings: Settings, probe: bool = True) -> tuple[str, int]:
    """The ``doctor`` command's text and exit code (0 all good, 1 otherwise)."""
    problems = configuration_problems(settings)
    checks = check_providers(settings, probe=probe)
    rows = [("ROLE", "PROVIDER", "MODEL", "KEY", "STATUS")]
    rows += [(c.role, c.provider, c.model, c.key, c.status) for c in checks]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["viewgen doctor: providers", ""]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    if any(c.provider != "offline" for c in checks):
        lines += ["", (
            f"limits per provider key: {settings.provider_concurrency or 'unlimited'} "
            f"concurrent calls, {settings.provider_rpm or 'unlimited'} requests/min; "
            f"timeout {settings.provider_timeout_s:g} s; {settings.provider_max_attempts} "
            "attempts per call"
        )]
    found = list(problems)
    for check in checks:
        if check.configured and check.reachable is False:
            found.append(f"{check.role} ({check.provider}): {check.detail}")
    notes = _unused_keys(settings)
    if found:
        lines += ["", "Problems:"] + [f"  - {p}" for p in found]
    if notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in notes]
    lines.append("")
    if found:
        lines.append(f"{len(found)} problem(s) found.")
    elif all(c.provider == "offline" for c in checks):
        lines.append("OK: the offline renderer needs no keys and no network.")
    elif probe:
        lines.append("OK: every provider is configured and reachable.")
    else:
        lines.append("OK: every provider is configured (not probed).")
    return "\n".join(lines) + "\n", 1 if found else 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    text, code = doctor_report(settings, probe=not args.no_probe)
    print(text, end="")
    return code


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="which providers are configured and reachable",
        description="Check the chosen image and feature providers: keys set (never shown), "
                    "settings valid, and one cheap call each to see they answer.",
    )
    doctor.add_argument("--no-probe", action="store_true",
                        help="check the configuration only; make no network call")
    doctor.set_defaults(func=cmd_doctor)
