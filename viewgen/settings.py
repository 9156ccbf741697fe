"""Settings from ``VIEWGEN_*`` environment variables and ``.streamlit/secrets.toml``.

Environment variables win over the secrets file; every field has an embedded default,
so a fresh checkout runs with no keys and no servers (SQLite under ``data/``, images
in ``data/blobs``, the offline renderer). Secrets are ``SecretStr`` so they never
print.
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from viewgen.providers import registry

SECRETS_FILE_ENV = "VIEWGEN_SECRETS_FILE"

PRICE_SETTINGS = ("price_front", "price_retry", "price_view", "price_regenerate", "price_hero")


def whole_credits(value: Any, name: str) -> int:
    """``value`` as a whole number of credits, 0 or more, or a ``ValueError`` naming ``name``.

    Accepts an int or the text of one (environment variables and TOML strings); refuses
    fractions ("2.5", 2.5), booleans, negatives and anything else, instead of letting
    pydantic round "2.0" or read ``true`` as 1.
    """
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    if number is None or number < 0:
        raise ValueError(
            f"{name} must be a whole number of credits, 0 or more (0 makes that step "
            f"free); got {value!r}."
        )
    return number


class _SecretsTomlSource(PydanticBaseSettingsSource):
    """Reads ``.streamlit/secrets.toml`` (top level and a ``[viewgen]`` table)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = Path(os.environ.get(SECRETS_FILE_ENV, ".streamlit/secrets.toml"))
        self._data: dict[str, Any] = {}
        if path.is_file():
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                raw = {}
            flat = {k: v for k, v in raw.items() if not isinstance(v, dict)}
            flat.update(raw.get("viewgen", {}) if isinstance(raw.get("viewgen"), dict) else {})
            self._data = {k.lower(): v for k, v in flat.items()}

    def get_field_value(self, field, field_name):  # pragma: no cover - unused by __call__
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():
            candidates = [name, f"viewgen_{name}"]
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                candidates += [str(c).lower() for c in alias.choices]
            elif isinstance(alias, str):
                candidates.append(alias.lower())
            for candidate in candidates:
                if candidate in self._data:
                    out[name] = self._data[candidate]
                    break
        return out


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIEWGEN_", extra="ignore", populate_by_name=True)

    # where things live
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/viewgen.db"
    )
    blob_backend: Literal["local", "supabase"] = "local"
    auth_backend: Literal["local", "supabase"] = "local"
    # PostgreSQL: "null" keeps no pooled connections (Supabase's transaction pooler);
    # "auto" does that when the URL's port is 6543, the pooler's transaction port
    db_pool: Literal["auto", "queue", "null"] = "auto"
    # switch to the member's role and claims in each transaction so Row Level Security
    # holds for the app's own connection (supabase/policies.sql)
    db_rls: bool = True

    # providers: any name in viewgen.providers.registry.PROVIDERS that fills the role
    image_provider: str = "offline"
    feature_provider: str = "offline"
    gemini_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("VIEWGEN_GEMINI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"),
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("VIEWGEN_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    gemini_model: str = "gemini-2.5-flash-image"
    gemini_text_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    provider_timeout_s: float = 60.0
    provider_max_attempts: int = 4
    provider_concurrency: int = 4
    provider_rpm: int = 60
    provider_retry_initial_s: float = Field(
        default=1.0, description="first retry backoff (doubles per retry, plus as much jitter)"
    )
    provider_max_retry_wait_s: float = Field(
        default=60.0, description="longest server-requested retry delay worth waiting for"
    )
    image_size: int = 1024
    aspect_ratio: str = "1:1"

    # supabase (shared deployments)
    supabase_url: str | None = Field(
        default=None, validation_alias=AliasChoices("VIEWGEN_SUPABASE_URL", "SUPABASE_URL")
    )
    supabase_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("VIEWGEN_SUPABASE_KEY", "SUPABASE_KEY")
    )
    signed_url_expiry_s: int = 3600

    # credits, priced as the seed: a product 3 with its four other views included, a
    # retry after a rejection 2, one view regenerated later 1; 0 makes a step free
    price_front: int = 3
    price_retry: int = 2
    price_view: int = 0
    price_regenerate: int = 1
    # the optional three-quarter hero view's first image (an add-on, not included in
    # the product's price; regenerating it later costs price_regenerate like any view)
    price_hero: int = 1
    starting_credits: int = 50

    # accounts: days a browser stays signed in across reloads (0: sign in on every visit)
    session_days: int = 14

    # limits
    max_text_chars: int = 2000
    max_upload_mb: int = 10
    max_image_pixels: int = 40_000_000
    generating_timeout_s: int = 900
    view_workers: int = 4
    # durable execution (viewgen.durable, docs/deployment.md)
    worker: Literal["embedded", "worker", "off"] = "embedded"
    worker_id: str | None = None
    dbos_database_url: str | None = None
    # how often an idle executor asks each queue for work: DBOS polls, so this is both
    # the longest wait before queued work starts and the idle CPU (about 14% of a core
    # at 0.25 s, 40% at 0.05 s for the four queues of one process)
    queue_poll_s: float = Field(default=0.25, gt=0)
    heartbeat_s: float = Field(default=5.0, gt=0)
    worker_dead_after_s: float = Field(default=30.0, gt=0)
    batch_rows_per_user: int = Field(default=2, ge=1)
    batch_max_rows: int = Field(default=10_000, ge=1)
    # the QA gate (viewgen.quality): automatic free attempts after a failing image
    qa_retries: int = Field(default=2, ge=0, le=5)

    @field_validator(*PRICE_SETTINGS, mode="before")
    @classmethod
    def _whole_credits(cls, value: Any, info: ValidationInfo) -> int:
        # checked when the app or CLI starts, so a bad price never meets a ledger
        return whole_credits(value, f"VIEWGEN_{str(info.field_name).upper()}")

    # HTTP API (python -m viewgen serve; viewgen/api): requests per minute per token
    # (0: no limit), the largest request body (default: room for a reference photo and a
    # logo at max_upload_mb as base64), lifetime of its signed image URLs, and the key
    # that signs them (default: generated once into <data_dir>/api-signing.key)
    api_rate_per_minute: int = 120
    api_max_body_mb: float | None = None
    api_url_expiry_s: int = 900
    api_signing_secret: SecretStr | None = None

    @field_validator("image_provider", "feature_provider")
    @classmethod
    def _known_provider(cls, value: str, info: ValidationInfo) -> str:
        role: registry.Role = "image" if info.field_name == "image_provider" else "features"
        value = str(value).strip().lower()
        if value not in registry.names_for(role):
            raise ValueError(registry.unknown_message(role, value))
        return value

    @model_validator(mode="after")
    def _providers_from_keys(self) -> Settings:
        # setting a key is all a user needs to switch from the offline renderer (the
        # registry says which roles each key switches); VIEWGEN_IMAGE_PROVIDER /
        # VIEWGEN_FEATURE_PROVIDER still win when given
        for role, name in (("image", "image_provider"), ("features", "feature_provider")):
            if name not in self.model_fields_set:
                found = registry.auto_provider(self, role)  # type: ignore[arg-type]
                if found:
                    setattr(self, name, found)
        return self

    @model_validator(mode="after")
    def _supabase_backends(self) -> Settings:
        # SUPABASE_URL and SUPABASE_KEY alone switch images and accounts to Supabase;
        # VIEWGEN_BLOB_BACKEND / VIEWGEN_AUTH_BACKEND still win when given
        if self.supabase_url and self.supabase_key:
            if "blob_backend" not in self.model_fields_set:
                self.blob_backend = "supabase"
            if "auth_backend" not in self.model_fields_set:
                self.auth_backend = "supabase"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SecretsTomlSource(settings_cls), file_secret_settings)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'viewgen.db').as_posix()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def provider_label(self) -> str:
        if self.image_provider == "offline" and self.feature_provider == "offline":
            return "offline demo renderer"
        image = registry.PROVIDERS[self.image_provider].label
        features = registry.PROVIDERS[self.feature_provider].label
        return image if image == features else f"{image} + {features}"


def load_settings(**overrides: Any) -> Settings:
    """``Settings()``, with a bad setting reported as a ``ConfigurationError``.

    The app and the CLI call this at start, so a wrong price (``VIEWGEN_PRICE_VIEW=-1``,
    ``2.5``) stops them before any credit moves, with a message naming the setting.
    """
    from viewgen.errors import ConfigurationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(message if message.startswith("VIEWGEN_") else
                            f"VIEWGEN_{where.upper()}: {message}")
        raise ConfigurationError("Settings are not valid: " + " ".join(problems)) from None
