"""Is each provider configured, and can we reach it? (``python -m viewgen doctor``)

``configuration_problems`` reads settings only (no network, no SDK import for the
offline setup) and says, naming the setting, what stops the chosen providers from
working: the app shows these at start instead of crashing. ``check_providers`` adds
one cheap probe per hosted provider (``models.get`` / ``models.retrieve``, a short
timeout, no retries). That probe cannot see an image quota (a key with no quota for the
image model still finds the model), so ``doctor --probe-image`` draws one real image,
after stating its price, and reports a zero or used-up quota as such. A key is only
ever shown as "set" or "not set". Providers, keys and models come from
``registry.PROVIDERS``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from viewgen.providers import registry
from viewgen.providers.registry import PROVIDERS, SELECTORS

if TYPE_CHECKING:
    from viewgen.settings import Settings

PROBE_TIMEOUT_S = 5.0
IMAGE_PROBE_TIMEOUT_S = 90.0


def missing_key_message(selector: str, provider: str) -> str:
    """The one sentence for "provider chosen, key missing" (app start, doctor, errors)."""
    return (
        f"{selector} is '{provider}' but {PROVIDERS[provider].key_env} is not set (env or "
        f".streamlit/secrets.toml): set the key, or set {selector}=offline."
    )


def _key_set(settings: Settings, provider: str) -> bool:
    return PROVIDERS[provider].key_set(settings)


def _roles(settings: Settings) -> list[tuple[registry.Role, str]]:
    return [(role, registry.chosen(settings, role)) for role in registry.ROLES]


def configuration_problems(settings: Settings) -> list[str]:
    """Every setting that stops the chosen providers from working, in words."""
    problems: list[str] = []
    hosted = set()
    for role, provider in _roles(settings):
        if not PROVIDERS[provider].needs_key:
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
        spec = PROVIDERS[provider]
        url = getattr(settings, spec.base_url_setting, None) if spec.base_url_setting else None
        if url and not url.startswith(("http://", "https://")):
            problems.append(
                f"VIEWGEN_{str(spec.base_url_setting).upper()} is {url!r}; it must start "
                "with http:// or https://."
            )
        problems += spec.config_problems(settings)
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
    final: bool = False       # the failure will not pass by waiting (a zero quota ...)
    image_probe: str | None = None  # what ``--probe-image`` found, when asked

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
            if self.error == "QuotaExhausted":
                return "NO QUOTA" if self.final else "RATE LIMITED"
            if self.error in ("ProviderTimeout", "ProviderUnavailable"):
                return "UNREACHABLE"
            return "PROBE FAILED"
        if self.latency_ms is None:
            return "ready"
        return f"reachable ({self.latency_ms:.0f} ms)"


def image_probe_cost(settings: Settings) -> str:
    """The list price of one probe image (its prompt is about 1,500 input tokens)."""
    from viewgen.providers.prices import price_for

    price = price_for(PROVIDERS[settings.image_provider].model(settings, "image"))
    if price is None:
        return "an unknown price (no list price known for this model)"
    return f"about ${price.per_image + 1500 * price.input_per_m / 1e6:.3f}"


def image_probe_notice(settings: Settings) -> str | None:
    """What ``--probe-image`` will spend, said before it spends it (None: nothing to pay)."""
    spec = PROVIDERS[settings.image_provider]
    if not spec.needs_key or not spec.key_set(settings):
        return None
    return (f"--probe-image draws one real image with {spec.label} "
            f"{spec.model(settings, 'image')}: {image_probe_cost(settings)}, billed to "
            f"{spec.key_env}.")


def check_providers(settings: Settings, *, probe: bool, probe_image: bool = False,
                    timeout_s: float = PROBE_TIMEOUT_S) -> list[ProviderCheck]:
    """One check per role (image, features); with ``probe`` one cheap call each, and
    with ``probe_image`` one real (paid) image from the image provider."""
    from viewgen.errors import ProviderError, ViewgenError

    checks: list[ProviderCheck] = []
    timeout_s = min(timeout_s, settings.provider_timeout_s) if (
        settings.provider_timeout_s > 0) else timeout_s
    for role, provider in _roles(settings):
        spec = PROVIDERS[provider]
        model = spec.model(settings, role)
        if not spec.needs_key:
            checks.append(ProviderCheck(role, provider, model, "not needed", True, True,
                                        spec.probe))
            continue
        if not _key_set(settings, provider):
            checks.append(ProviderCheck(role, provider, model, "not set", False, None,
                                        missing_key_message(SELECTORS[role], provider)))
            continue
        try:
            adapter = spec.build(role, settings)
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
            drawn = None
            if probe_image and role == "image" and hasattr(adapter, "probe_image"):
                try:
                    drawn = adapter.probe_image(IMAGE_PROBE_TIMEOUT_S)
                except ViewgenError as exc:
                    final = isinstance(exc, ProviderError) and not exc.retryable
                    checks.append(ProviderCheck(role, provider, model, "set", True, False,
                                                str(exc), latency, type(exc).__name__,
                                                final=final))
                    continue
            checks.append(ProviderCheck(role, provider, model, "set", True, True,
                                        f"model found: {found}", latency,
                                        image_probe=drawn))
        finally:
            adapter.close()
    return checks


def _unused_keys(settings: Settings) -> list[str]:
    notes = []
    in_use = {p for _, p in _roles(settings)}
    for spec in PROVIDERS.values():
        if spec.needs_key and spec.key_set(settings) and spec.name not in in_use:
            what = {"image": "draw the views", "features": "extract features"}
            uses = " or ".join(f"{SELECTORS[r]}={spec.name} to {what[r]}" for r in spec.roles)
            notes.append(f"{spec.key_env} is set but unused: set {uses} with {spec.label}.")
    return notes


def doctor_report(settings: Settings, probe: bool = True,
                  probe_image: bool = False) -> tuple[str, int]:
    """The ``doctor`` command's text and exit code (0 all good, 1 otherwise)."""
    problems = configuration_problems(settings)
    checks = check_providers(settings, probe=probe, probe_image=probe and probe_image)
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
    image = next((c for c in checks if c.role == "image"), None)
    if image is not None and image.image_probe:
        lines += ["", f"image probe: {image.image_probe}"]
    elif (probe and not probe_image and image is not None and image.reachable
          and PROVIDERS[image.provider].needs_key):
        notes.append(
            "The probe finds the image model but cannot see its quota (a key with no "
            "quota for it passes): run doctor --probe-image to draw one real image "
            f"({image_probe_cost(settings)}).")
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
    probe_image = bool(getattr(args, "probe_image", False)) and not args.no_probe
    if probe_image:
        notice = image_probe_notice(settings)
        if notice:  # the price first, before anything is spent
            print(notice, flush=True)
    text, code = doctor_report(settings, probe=not args.no_probe, probe_image=probe_image)
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
    doctor.add_argument("--probe-image", action="store_true",
                        help="also draw one real image with the image provider (billed; "
                             "the price is printed first) to check the key's image quota")
    doctor.set_defaults(func=cmd_doctor)
