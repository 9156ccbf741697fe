"""viewgen: five consistent product views from a description or a reference photo.

The names below are the whole public surface the pages and the CLI use.
"""

from viewgen.domain import (
    ALL_VIEWS,
    OTHER_VIEWS,
    Approval,
    Color,
    ExtractedFeatures,
    Revision,
    Role,
    Status,
    User,
    ViewType,
)
from viewgen.errors import (
    AuthError,
    IllegalTransition,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProviderError,
    ViewgenError,
)
from viewgen.settings import Settings
from viewgen.workflow import Studio, ViewBatch, ViewOutcome, build_studio

__all__ = [
    "ALL_VIEWS",
    "OTHER_VIEWS",
    "Approval",
    "AuthError",
    "Color",
    "ExtractedFeatures",
    "IllegalTransition",
    "InsufficientCredits",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "ProviderError",
    "Revision",
    "Role",
    "Settings",
    "Status",
    "Studio",
    "User",
    "ViewBatch",
    "ViewOutcome",
    "ViewType",
    "ViewgenError",
    "build_studio",
]
