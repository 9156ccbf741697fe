"""viewgen: five consistent product views from a description or a reference photo.

The names below are the whole public surface the pages, the CLI and the API use. They
are imported on first use (PEP 562), so ``import viewgen.errors`` or
``import viewgen.domain`` does not pull in the workflow, the providers and the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ALL_VIEWS": "viewgen.domain",
    "OTHER_VIEWS": "viewgen.domain",
    "STORED_VIEWS": "viewgen.domain",
    "Approval": "viewgen.domain",
    "Color": "viewgen.domain",
    "ExtractedFeatures": "viewgen.domain",
    "Revision": "viewgen.domain",
    "Role": "viewgen.domain",
    "Status": "viewgen.domain",
    "User": "viewgen.domain",
    "ViewType": "viewgen.domain",
    "AuthError": "viewgen.errors",
    "IllegalTransition": "viewgen.errors",
    "InsufficientCredits": "viewgen.errors",
    "InvalidInput": "viewgen.errors",
    "NotFound": "viewgen.errors",
    "PermissionDenied": "viewgen.errors",
    "ProviderError": "viewgen.errors",
    "ViewgenError": "viewgen.errors",
    "Settings": "viewgen.settings",
    "Studio": "viewgen.workflow",
    "ViewBatch": "viewgen.workflow",
    "ViewOutcome": "viewgen.workflow",
    "build_studio": "viewgen.compose",
}

__all__ = [
    "ALL_VIEWS",
    "OTHER_VIEWS",
    "STORED_VIEWS",
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

if TYPE_CHECKING:  # pragma: no cover
    from viewgen.compose import build_studio
    from viewgen.domain import (
        ALL_VIEWS,
        OTHER_VIEWS,
        STORED_VIEWS,
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
    from viewgen.workflow import Studio, ViewBatch, ViewOutcome


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'viewgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
