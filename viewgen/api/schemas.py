"""Request and response bodies of the HTTP API, in the seed's camelCase.

The seed's three routes keep its names: ``approvalId``, ``sessionId``, ``frontView``
and ``views`` each ``{url, prompt}``. Images travel in as base64 data URLs
(``data:image/png;base64,...``; bare base64 is accepted too) and out as short-lived
signed URLs, never as keys. Each response model is what ``/docs`` shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from viewgen.domain import ViewType


class _In(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class GenerateFrontRequest(_In):
    text: str | None = Field(
        default=None, validation_alias=AliasChoices("text", "description", "prompt"),
        description="the product description (or send `image`)")
    image: str | None = Field(
        default=None, validation_alias=AliasChoices("image", "referenceImage"),
        description="a reference photo as a base64 data URL (PNG, JPEG or WebP)")
    logo: str | None = Field(default=None, description="a logo for the front, as a data URL")
    sessionId: str | None = Field(default=None, max_length=64,
                                  description="your session id; one is made if omitted")
    projectName: str | None = Field(default=None, max_length=200)
    seed: int | None = Field(default=None, ge=1, lt=2**31 - 1,
                             description="for a reproducible result")


class ApproveFrontRequest(_In):
    approvalId: str = Field(max_length=64)
    approved: bool
    feedback: str | None = Field(default=None, description="required when approved is false")
    features: dict[str, Any] | None = Field(
        default=None, description="the extracted features as corrected by the person "
        "(same shape as `extractedFeatures`); the views are generated from them")


class AdditionalViewsRequest(_In):
    approvalId: str = Field(max_length=64)
    views: list[ViewType] | None = Field(
        default=None, description="which views (default: every view still missing); "
        "add \"hero\" for the optional three-quarter hero view")


class RegenerateRequest(_In):
    views: list[ViewType] = Field(min_length=1, description="views to draw again; \"hero\" "
                                  "regenerates the hero view, or adds it if the product has none")
    feedback: str = Field(description="what to change")


class Image(BaseModel):
    url: str | None = Field(description="a short-lived signed URL; null if not generated yet")
    prompt: str | None = None


class Credits(BaseModel):
    charged: int
    balance: int


class FrontViewResponse(BaseModel):
    approvalId: str
    sessionId: str | None
    status: str
    frontView: Image
    credits: Credits


class ApproveResponse(BaseModel):
    approvalId: str
    sessionId: str | None
    status: str
    approved: bool
    extractedFeatures: dict[str, Any] | None = None
    frontView: Image | None = None
    credits: Credits
    nextPrice: int = Field(description="the price of the next step: the other views after an "
                           "approval; the views are part of the product when it is 0")


class ViewsResponse(BaseModel):
    approvalId: str
    status: str
    views: dict[str, Image]
    viewErrors: dict[str, str] = Field(default_factory=dict)
    credits: Credits


class Accepted(BaseModel):
    approvalId: str
    sessionId: str | None = None
    status: str
    workflowId: str | None = Field(default=None, description="the durable workflow started")
    statusUrl: str = Field(description="GET it until its `job.state` is no longer `running`")


class ErrorOut(BaseModel):
    """The same ``{error, message}`` an error response carries."""

    error: str
    message: str


class ViewJob(BaseModel):
    state: str = Field(description="queued | running | succeeded | failed")
    error: ErrorOut | None = None


class Job(BaseModel):
    """The product's latest workflow: what it does, how far it got, how it ended."""

    workflowId: str
    action: str = Field(description="front | approve | views")
    state: str = Field(description="running | succeeded | partial (some views failed) | "
                       "failed; credits held for what failed are refunded")
    error: ErrorOut | None = Field(default=None, description="why it failed, as the call "
                                   "would have answered had it waited")
    views: dict[str, ViewJob] = Field(default_factory=dict,
                                      description="for `views`: each view of the batch")


class NextAction(BaseModel):
    action: str
    method: str
    path: str
    price: int


class RevisionOut(BaseModel):
    revisionNumber: int
    userPrompt: str | None
    changes: dict[str, Any]
    views: dict[str, Image]
    createdAt: datetime | None


class RejectedFront(BaseModel):
    feedback: str | None
    url: str | None
    createdAt: datetime | None


class Product(BaseModel):
    id: str
    sessionId: str | None
    status: str
    inputType: str
    inputText: str | None
    error: str | None
    viewErrors: dict[str, str]
    views: dict[str, Image]
    extractedFeatures: dict[str, Any] | None
    consistency: dict[str, Any]
    rejectionCount: int
    feedbackHistory: list[str]
    revisions: list[RevisionOut]
    rejectedFronts: list[RejectedFront]
    nextActions: list[NextAction]
    job: Job | None = Field(default=None, description="the latest workflow (poll this after "
                            "a 202)")
    createdAt: datetime | None
    approvedAt: datetime | None
    updatedAt: datetime | None


class ProductSummary(BaseModel):
    id: str
    status: str
    inputText: str | None
    createdAt: datetime | None
    updatedAt: datetime | None
    url: str


class ProductList(BaseModel):
    products: list[ProductSummary]
    limit: int
    offset: int


class RegenerateResponse(BaseModel):
    approvalId: str
    status: str
    revisionNumber: int
    regenerated: list[str]
    views: dict[str, Image]
    credits: Credits


class Me(BaseModel):
    id: str
    email: str
    displayName: str
    role: str
    authenticatedWith: str
    credits: int
    prices: dict[str, int] = Field(description="credits each next action costs")
