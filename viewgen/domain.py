"""The vocabulary of viewgen: enums and pydantic models shared by every layer.

``ExtractedFeatures`` is the contract between the feature extractors (offline,
OpenAI, Gemini), the prompts for the other views, the UI and the exports; its
JSON field names (``keyElements``, ``estimatedDimensions``) match the seed's, and so does
the shape of ``estimatedDimensions``: ``{width, height, depth, unit}`` (``Dimensions``,
from ``viewgen.dimensions``; text from older rows is parsed into it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from viewgen.dimensions import Dimensions, format_dimensions, parse_dimensions


def _as_utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything viewgen stores is UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UTCDateTime = Annotated[datetime | None, AfterValidator(_as_utc)]


class ViewType(StrEnum):
    FRONT = "front"
    BACK = "back"
    SIDE = "side"
    TOP = "top"
    BOTTOM = "bottom"
    HERO = "hero"  # the optional three-quarter view (front and side at 45°, camera raised ~20°)

    @property
    def label(self) -> str:
        return self.value.capitalize()


# The five catalogue views every product has; a product is complete with these. The
# hero is an optional sixth view, asked for per product and never counted as missing.
ALL_VIEWS: tuple[ViewType, ...] = (ViewType.FRONT, ViewType.BACK, ViewType.SIDE, ViewType.TOP,
                                   ViewType.BOTTOM)
OTHER_VIEWS: tuple[ViewType, ...] = (ViewType.BACK, ViewType.SIDE, ViewType.TOP, ViewType.BOTTOM)
OPTIONAL_VIEWS: tuple[ViewType, ...] = (ViewType.HERO,)
#: every view a product may hold, in display order (the five, then the hero)
STORED_VIEWS: tuple[ViewType, ...] = (*ALL_VIEWS, *OPTIONAL_VIEWS)


class Status(StrEnum):
    INPUT = "input"
    FRONT_GENERATING = "front_generating"
    FRONT_REVIEW = "front_review"
    REVISION_REQUESTED = "revision_requested"
    APPROVED = "approved"
    VIEWS_GENERATING = "views_generating"
    COMPLETE = "complete"
    FAILED = "failed"


class InputType(StrEnum):
    TEXT = "text"
    IMAGE = "image"


class Role(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"


class LedgerState(StrEnum):
    RESERVED = "reserved"
    COMMITTED = "committed"
    REFUNDED = "refunded"
    GRANTED = "granted"


class ColorUsage(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ACCENT = "accent"


_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


class Color(BaseModel):
    hex: str
    name: str
    usage: ColorUsage = ColorUsage.PRIMARY
    share: float | None = Field(default=None, description="fraction of product pixels, when measured")

    @field_validator("hex")
    @classmethod
    def _hex(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith("#"):
            value = "#" + value
        if not _HEX.match(value):
            raise ValueError(f"not a #RRGGBB colour: {value!r}")
        return value.upper()


class ExtractedFeatures(BaseModel):
    """Features of the approved front that anchor the other four views."""

    model_config = ConfigDict(populate_by_name=True)

    colors: list[Color] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)
    keyElements: list[str] = Field(default_factory=list)
    estimatedDimensions: Dimensions | None = None
    description: str = ""
    not_measured: list[str] = Field(
        default_factory=list,
        description="feature fields the extractor could not measure (e.g. 'materials', "
                    "'estimatedDimensions', 'estimatedDimensions.depth')",
    )

    @field_validator("estimatedDimensions", mode="before")
    @classmethod
    def _dimensions(cls, value: Any) -> Any:
        # older rows, exports and clients wrote the size as text: read it
        if isinstance(value, str):
            return parse_dimensions(value)
        if isinstance(value, dict) and not any(
                value.get(k) is not None for k in ("width", "height", "depth", "note")):
            return None  # an all-null record is "not measured", one way only
        return value

    @property
    def dimensions_text(self) -> str:
        """The size as people read it: ``"28 × 22 × 12 cm"`` (``""`` when unknown)."""
        return format_dimensions(self.estimatedDimensions)

    def public_json(self) -> dict[str, Any]:
        """The JSON shape the CLI, exports and seed use."""
        return self.model_dump(mode="json")


class User(BaseModel):
    id: str
    email: str
    display_name: str = ""
    role: Role = Role.MEMBER
    created_at: UTCDateTime = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Project(BaseModel):
    id: str
    user_id: str
    name: str
    created_at: UTCDateTime = None


class ViewImage(BaseModel):
    view: ViewType
    key: str | None = None
    prompt: str | None = None


class Approval(BaseModel):
    """One row of ``product_view_approvals``: a product's five views (and the optional
    hero) and their state."""

    id: str
    user_id: str
    project_id: str
    session_id: str | None = None
    input_type: InputType
    input_text: str | None = None
    reference_key: str | None = None
    logo_key: str | None = None
    views: dict[ViewType, ViewImage] = Field(default_factory=dict)
    extracted_features: ExtractedFeatures | None = None
    status: Status
    user_feedback: str | None = None
    error: str | None = None
    view_errors: dict[str, str] = Field(default_factory=dict)
    consistency: dict[str, Any] = Field(default_factory=dict)
    feedback_history: list[str] = Field(default_factory=list)
    rejection_count: int = 0
    seed: int = 0
    workflow_id: str | None = None
    qa: dict[str, Any] = Field(default_factory=dict)
    created_at: UTCDateTime = None
    approved_at: UTCDateTime = None
    updated_at: UTCDateTime = None

    def key(self, view: ViewType) -> str | None:
        image = self.views.get(view)
        return image.key if image else None

    def prompt(self, view: ViewType) -> str | None:
        image = self.views.get(view)
        return image.prompt if image else None

    @property
    def missing_views(self) -> list[ViewType]:
        """The catalogue views still to make (never the optional hero)."""
        return [v for v in OTHER_VIEWS if not self.key(v)]

    @property
    def has_hero(self) -> bool:
        return bool(self.key(ViewType.HERO))

    @property
    def stored_views(self) -> list[ViewType]:
        """The views that have an image, in display order (the hero last)."""
        return [v for v in STORED_VIEWS if self.key(v)]


class HistoryEntry(BaseModel):
    id: int
    approval_id: str
    view_type: ViewType
    image_key: str
    prompt: str | None = None
    user_feedback: str | None = None
    created_at: UTCDateTime = None
    reason: str = "rejected"  # or "replaced": a regenerated view, a flagged front tried again


class Revision(BaseModel):
    id: int
    project_id: str
    approval_id: str | None = None
    revision_number: int
    user_prompt: str | None = None
    image_data: dict[str, dict[str, Any]] = Field(default_factory=dict)
    changes_made: dict[str, Any] = Field(default_factory=dict)
    created_at: UTCDateTime = None


class LedgerEntry(BaseModel):
    id: int
    user_id: str
    delta: int
    reason: str
    approval_id: str | None = None
    state: LedgerState
    created_at: UTCDateTime = None


# --- provider seam -------------------------------------------------------------


class RetryMode(StrEnum):
    """How a new front after a rejection is made."""

    EDIT = "edit"    # change only what the feedback says in the rejected image
    FRESH = "fresh"  # draw it again from the description and all the feedback


@dataclass(frozen=True)
class GenerationRequest:
    """Everything an ImageGenerator needs to draw one view.

    ``feedback`` holds every rejection / regeneration note so far, oldest first, so a
    provider can rebuild the product the user has steered towards. ``edit_of`` (with
    ``retry_mode`` EDIT) is the rejected image to change; a provider that can edit
    (Gemini) sends it as the input image with ``prompts.edit_prompt``, one that cannot
    (offline) draws afresh.
    """

    view: ViewType
    prompt: str
    text: str | None = None
    reference: bytes | None = None
    logo: bytes | None = None
    front: bytes | None = None
    features: ExtractedFeatures | None = None
    feedback: tuple[str, ...] = ()
    seed: int = 0
    size: tuple[int, int] = (1024, 1024)
    edit_of: bytes | None = None
    retry_mode: RetryMode = RetryMode.FRESH

    @property
    def is_edit(self) -> bool:
        return self.retry_mode == RetryMode.EDIT and bool(self.edit_of)


@dataclass
class CallUsage:
    """What one provider call cost, for the ``generation_calls`` table."""

    provider: str
    model: str
    attempts: int = 1
    input_tokens: int | None = None
    output_tokens: int | None = None
    images: int = 0
    cost_usd: float = 0.0


@dataclass
class GeneratedImage:
    data: bytes
    usage: CallUsage
    mime_type: str = "image/png"
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExtractionResult:
    features: ExtractedFeatures
    usage: CallUsage
