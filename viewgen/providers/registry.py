"""One registry of providers: each declares its name, label, adapters, key, models,
prices and probes in one place; everything else iterates over it.

Like simonw/llm's model plugins, the core never names a provider: ``build_generator``
and ``build_extractor`` (``providers/__init__.py``), the ``VIEWGEN_*_PROVIDER`` choices
and the provider label in ``settings.py``, the key table, model names, unused-key notes
and probes of ``doctor.py``, and ``prices.PRICES`` all read ``PROVIDERS``. Adding a
provider is one ``ProviderSpec`` here and one adapter module (with a ``probe`` method,
and ``probe_image`` if it draws). This module imports no SDK: adapters are named as
``"module:Class"`` strings and imported only when built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from viewgen.settings import Settings

Role = Literal["image", "features"]
ROLES: tuple[Role, ...] = ("image", "features")
SELECTORS: dict[Role, str] = {"image": "VIEWGEN_IMAGE_PROVIDER",
                              "features": "VIEWGEN_FEATURE_PROVIDER"}


@dataclass(frozen=True)
class Price:
    """US dollars: per 1M input tokens, per 1M output tokens, per generated image."""

    input_per_m: float = 0.0
    output_per_m: float = 0.0
    per_image: float = 0.0

    def cost(self, input_tokens: int | None, output_tokens: int | None, images: int = 0) -> float:
        return round(
            (input_tokens or 0) * self.input_per_m / 1e6
            + (output_tokens or 0) * self.output_per_m / 1e6
            + images * self.per_image,
            6,
        )


@dataclass(frozen=True)
class Model:
    """A model a provider offers: its list price and whether it takes ``temperature``."""

    name: str
    price: Price
    temperature: bool = True


@dataclass(frozen=True)
class ProviderSpec:
    """Everything viewgen knows about one provider."""

    name: str                                  # the VIEWGEN_*_PROVIDER value
    label: str                                 # for people ("Gemini")
    adapters: dict[Role, str]                  # role -> "module:Class"
    key_setting: str | None = None             # Settings field holding the key
    key_env: str | None = None                 # the variable people set
    model_settings: dict[Role, str] = field(default_factory=dict)  # role -> Settings field
    base_url_setting: str | None = None        # Settings field for a custom endpoint
    models: tuple[Model, ...] = ()
    fixed_models: dict[Role, str] = field(default_factory=dict)  # no setting: a description
    # a key alone switches these roles to this provider; lower number wins among keys set
    auto_roles: dict[Role, int] = field(default_factory=dict)
    no_temperature: tuple[str, ...] = ()       # model-name prefixes not sent a temperature
    probe: str = ""                            # what doctor's cheap probe does
    config_checks: str | None = None           # "module:function(settings) -> [problems]"

    @property
    def roles(self) -> tuple[Role, ...]:
        return tuple(r for r in ROLES if r in self.adapters)

    @property
    def needs_key(self) -> bool:
        return self.key_setting is not None

    def key_set(self, settings: Settings) -> bool:
        if self.key_setting is None:
            return True
        secret = getattr(settings, self.key_setting, None)
        return bool(secret is not None and secret.get_secret_value().strip())

    def model(self, settings: Settings, role: Role) -> str:
        if role in self.model_settings:
            return str(getattr(settings, self.model_settings[role]))
        return self.fixed_models.get(role, self.name)

    def adapter_class(self, role: Role) -> Any:
        module, _, name = self.adapters[role].partition(":")
        return getattr(import_module(module), name)

    def build(self, role: Role, settings: Settings) -> Any:
        """The adapter for ``role`` (raises ``ConfigurationError`` as adapters do)."""
        cls = self.adapter_class(role)
        return cls() if self.key_setting is None else cls(settings)

    def config_problems(self, settings: Settings) -> list[str]:
        if not self.config_checks:
            return []
        module, _, name = self.config_checks.partition(":")
        return list(getattr(import_module(module), name)(settings))

    def find_model(self, name: str) -> Model | None:
        bare = name.removeprefix("models/")
        for model in sorted(self.models, key=lambda m: len(m.name), reverse=True):
            if bare.startswith(model.name):
                return model
        return None


# An image from gemini-2.5-flash-image is 1290 output tokens at $30 / 1M, i.e. $0.039,
# so that model's output is priced per image only (its output tokens are the image).
PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec for spec in (
        ProviderSpec(
            name="offline", label="offline",
            adapters={"image": "viewgen.providers.offline:OfflineGenerator",
                      "features": "viewgen.providers.offline:OfflineExtractor"},
            fixed_models={"image": "embedded renderer", "features": "pixel measurement"},
            probe="embedded, no key and no network needed",
        ),
        ProviderSpec(
            name="gemini", label="Gemini",
            adapters={"image": "viewgen.providers.gemini:GeminiGenerator",
                      "features": "viewgen.providers.gemini:GeminiExtractor"},
            key_setting="gemini_api_key", key_env="GEMINI_API_KEY",
            model_settings={"image": "gemini_model", "features": "gemini_text_model"},
            base_url_setting="gemini_base_url",
            models=(
                Model("gemini-2.5-flash-image", Price(input_per_m=0.30, per_image=0.039)),
                Model("gemini-3-pro-image", Price(input_per_m=2.00, per_image=0.134),
                      temperature=False),
                Model("gemini-2.5-flash-lite", Price(input_per_m=0.10, output_per_m=0.40)),
                Model("gemini-2.5-flash", Price(input_per_m=0.30, output_per_m=2.50)),
                Model("gemini-2.5-pro", Price(input_per_m=1.25, output_per_m=10.00)),
            ),
            auto_roles={"image": 1, "features": 2},
            # Gemini 3 is tuned for its default temperature; Google advises against lower
            no_temperature=("gemini-3",),
            probe="models.get (no image drawn; doctor --probe-image draws one)",
            config_checks="viewgen.providers.gemini:config_problems",
        ),
        ProviderSpec(
            name="openai", label="OpenAI",
            adapters={"features": "viewgen.providers.openai_vision:OpenAIExtractor"},
            key_setting="openai_api_key", key_env="OPENAI_API_KEY",
            model_settings={"features": "openai_model"},
            base_url_setting="openai_base_url",
            models=(
                Model("gpt-4o-mini", Price(input_per_m=0.15, output_per_m=0.60)),
                Model("gpt-4o", Price(input_per_m=2.50, output_per_m=10.00)),
                Model("gpt-4.1-mini", Price(input_per_m=0.40, output_per_m=1.60)),
                Model("gpt-4.1", Price(input_per_m=2.00, output_per_m=8.00)),
                Model("o4-mini", Price(input_per_m=1.10, output_per_m=4.40), temperature=False),
            ),
            auto_roles={"features": 1},
            no_temperature=("o1", "o3", "o4", "gpt-5"),  # reasoning models refuse one
            probe="models.retrieve",
        ),
    )
}


def names_for(role: Role) -> list[str]:
    """The providers that can fill ``role``, in registry order."""
    return [spec.name for spec in PROVIDERS.values() if role in spec.adapters]


def _choices(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def unknown_message(role: Role, name: str) -> str:
    what = "image" if role == "image" else "feature"
    return (f"Unknown {what} provider {name!r}: set {SELECTORS[role]} to "
            f"{_choices(names_for(role))}.")


def spec_for(role: Role, name: str) -> ProviderSpec:
    """The provider called ``name`` for ``role``, or a ``ConfigurationError`` naming the
    setting and the choices."""
    spec = PROVIDERS.get(name)
    if spec is None or role not in spec.adapters:
        from viewgen.errors import ConfigurationError

        raise ConfigurationError(unknown_message(role, name))
    return spec


def chosen(settings: Settings, role: Role) -> str:
    return str(settings.image_provider if role == "image" else settings.feature_provider)


def build(role: Role, settings: Settings) -> Any:
    return spec_for(role, chosen(settings, role)).build(role, settings)


def auto_provider(settings: Settings, role: Role) -> str | None:
    """The provider a set key selects for ``role`` when none is chosen explicitly."""
    ranked = sorted((spec.auto_roles[role], spec.name) for spec in PROVIDERS.values()
                    if role in spec.auto_roles and spec.needs_key and spec.key_set(settings))
    return ranked[0][1] if ranked else None


def find_model(name: str) -> Model | None:
    """The registered model ``name`` is (longest name prefix wins), from any provider."""
    found = [m for spec in PROVIDERS.values() if (m := spec.find_model(name))]
    return max(found, key=lambda m: len(m.name)) if found else None


def accepts_temperature(model: str) -> bool:
    """False for models known to refuse (or be harmed by) a non-default temperature."""
    found = find_model(model)
    if found is not None and not found.temperature:
        return False
    bare = model.removeprefix("models/")
    return not any(bare.startswith(spec.no_temperature) for spec in PROVIDERS.values()
                   if spec.no_temperature)
