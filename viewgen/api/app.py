"""The FastAPI application: the seed's three routes and what a client needs around them.

Routes hold no business logic: each authenticates the caller (``guard``), applies the
per-token rate limit, calls the one ``Studio`` the process shares with the same user
scoping as the app (on PostgreSQL, the same Row Level Security), and shapes the answer.
Routes are plain ``def`` functions, so FastAPI runs each in its worker thread pool and a
long generation does not hold up other requests. Images go out as short-lived signed
URLs: the blob store's own (Supabase Storage) or, for the local store, an app URL
signed with HMAC (``viewgen.signing``) and served by ``GET /api/images/{key}``.

``?wait=false`` on every route that generates returns ``202 Accepted`` at once with a
status URL (``GET /api/products/{id}``) once the request has been checked, charged and
its durable workflow (DBOS) started: ``wait=False`` of the Studio's front and approval
actions, ``Studio.start_views`` for views and regeneration. That URL's ``job``
(``status.job_of``) reports the workflow's progress and, if it failed, why, as
``{error, message}``; the product's views and features are there once it is done.

Every answer says where its time went in a ``Server-Timing`` header (``timing``): the
authentication, the ``Studio`` call the route stands for, and the whole request.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from viewgen.api import errors as api_errors
from viewgen.api import schemas as s
from viewgen.api import status
from viewgen.api.errors import InvalidFeatures
from viewgen.api.guard import Authenticator, BodyLimit, Caller, body_limit_bytes
from viewgen.api.timing import ServerTiming, timed
from viewgen.blobs import check_key
from viewgen.domain import ALL_VIEWS, OTHER_VIEWS, Approval, ExtractedFeatures, Status, ViewType
from viewgen.errors import IllegalTransition, InvalidInput, PermissionDenied, ProviderError
from viewgen.settings import Settings
from viewgen.signing import UrlSigner, load_secret
from viewgen.workflow import Studio

log = logging.getLogger(__name__)

API_VERSION = "1"
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?)(;base64)?,",
                       re.IGNORECASE)
_CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                  "webp": "image/webp", "gif": "image/gif", "zip": "application/zip"}


def decode_image(value: str | None, what: str) -> bytes | None:
    """A base64 data URL (or bare base64) as bytes; the Studio validates the image."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    match = _DATA_URL.match(text)
    if match:
        if ";base64," not in text[: match.end()].lower():
            raise InvalidInput(f"The {what} must be a base64 data URL "
                               "(data:image/png;base64,...).")
        text = text[match.end():]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"The {what} is not valid base64: send it as a data URL "
                           "(data:image/png;base64,...).") from exc



class Api:
    """The state one app shares between requests: Studio, signer, guards."""

    def __init__(self, studio: Studio, settings: Settings, *,
                 supabase_client: Any | None = None, signer: UrlSigner | None = None) -> None:
        self.studio = studio
        self.settings = settings
        self.signer = signer or UrlSigner(load_secret(settings),
                                          lifetime_s=settings.api_url_expiry_s)
        self.auth = Authenticator(studio.repo, settings, supabase_client=supabase_client)

    def who(self, bearer: HTTPAuthorizationCredentials | None, *,
            with_balance: bool = False) -> Caller:
        """The authenticated caller, counted against their rate limit; ``with_balance``:
        with their credits as the request began (``Caller.balance``)."""
        with timed("auth"):
            caller = self.auth.caller(f"{bearer.scheme} {bearer.credentials}" if bearer
                                      else None, with_balance=with_balance)
        if with_balance and caller.balance is None:  # a Supabase token: read it apart
            caller = replace(caller, balance=self.studio.balance(caller.user))
        return caller

    # -- images -------------------------------------------------------------------
    def url(self, request: Request, key: str | None) -> str | None:
        if not key:
            return None
        minted = self.studio.blobs.url(key)  # Supabase Storage signs its own
        if minted:
            return minted
        return str(request.base_url).rstrip("/") + self.signer.path(key)

    def image(self, request: Request, approval: Approval, view: ViewType) -> s.Image:
        return s.Image(url=self.url(request, approval.key(view)), prompt=approval.prompt(view))

    def views(self, request: Request, approval: Approval,
              which: tuple[ViewType, ...] = ALL_VIEWS) -> dict[str, s.Image]:
        if approval.has_hero and ViewType.HERO not in which:  # the optional hero, once made
            which = (*which, ViewType.HERO)
        return {v.value: self.image(request, approval, v) for v in which}

    # -- prices -------------------------------------------------------------------
    def regenerate_price(self) -> int:
        prices = self.studio.prices
        return int(getattr(prices, "regenerate", prices.view))

    def price_list(self) -> dict[str, int]:
        p = self.studio.prices
        return {"product": p.whole_product(), "front": p.front, "retry": p.retry,
                "view": p.view, "otherViews": p.for_views(len(OTHER_VIEWS)),
                "regenerateView": self.regenerate_price(), "hero": p.hero}

    def next_actions(self, a: Approval) -> list[s.NextAction]:
        p = self.studio.prices
        base = f"/api/products/{a.id}"
        out: list[s.NextAction] = []
        approved_front = a.extracted_features is not None
        if a.status == Status.FRONT_REVIEW:
            out.append(s.NextAction(action="approve", method="POST",
                                    path="/api/approve-front-view", price=0))
            out.append(s.NextAction(action="reject", method="POST",
                                    path="/api/approve-front-view", price=p.retry))
        elif a.status == Status.REVISION_REQUESTED or (
                a.status == Status.FAILED and not approved_front):
            out.append(s.NextAction(action="retry-front", method="POST",
                                    path=f"{base}/retry-front",
                                    price=self.studio.front_price(a)))
        elif a.status in (Status.APPROVED, Status.FAILED) and a.missing_views:
            out.append(s.NextAction(action="generate-views", method="POST",
                                    path="/api/generate-additional-views",
                                    price=p.for_views(len(a.missing_views))))
        elif a.status == Status.COMPLETE:
            out.append(s.NextAction(action="regenerate", method="POST",
                                    path=f"{base}/regenerate", price=self.regenerate_price()))
        return out

    def credits(self, caller: Caller) -> s.Credits:
        """What this request charged: the balance now against ``caller.balance``, read
        with the token as the request began (``who(..., with_balance=True)``)."""
        balance = self.studio.balance(caller.user)
        before = balance if caller.balance is None else caller.balance
        return s.Credits(charged=before - balance, balance=balance)

    def accepted(self, request: Request, approval: Approval) -> JSONResponse:
        path = f"/api/products/{approval.id}"
        body = s.Accepted(approvalId=approval.id, sessionId=approval.session_id,
                          status=approval.status.value, workflowId=approval.workflow_id,
                          statusUrl=str(request.base_url).rstrip("/") + path)
        return JSONResponse(body.model_dump(mode="json"), status_code=202,
                            headers={"Location": path})


# the bearer credential is read on the event loop (no thread hop); the token lookup
# runs in the route's own worker thread, so a request costs one hop, not two
_bearer = HTTPBearer(auto_error=False, description="an API token (vg_...) or, on a "
                     "Supabase deployment, a Supabase access token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
Wait = Annotated[bool, Query(description="false: return 202 and a status URL at once")]


def create_app(studio: Studio, settings: Settings | None = None, *,
               supabase_client: Any | None = None) -> FastAPI:
    """The API over ``studio`` (built the way the CLI builds it, or a test's own)."""
    settings = settings or studio.settings
    api = Api(studio, settings, supabase_client=supabase_client)
    app = FastAPI(
        title="viewgen API", version=API_VERSION,
        description="Five consistent product views from a description or a photo. "
                    "Authenticate with `Authorization: Bearer <API token>`.",
    )
    app.state.api = api
    app.add_middleware(BodyLimit, max_bytes=body_limit_bytes(settings))
    app.add_middleware(ServerTiming)  # the outermost: its "app" span is the whole request
    api_errors.install(app)

    # ------------------------------------------------------------------ the seed's routes
    @app.post("/api/generate-front-view", response_model=s.FrontViewResponse,
              responses={202: {"model": s.Accepted}}, tags=["seed"])
    def generate_front_view(body: s.GenerateFrontRequest, request: Request, bearer: Bearer,
                            wait: Wait = True) -> Any:
        who = api.who(bearer, with_balance=True)
        image = decode_image(body.image, "reference image")
        logo = decode_image(body.logo, "logo")
        session_id = body.sessionId or str(uuid.uuid4())
        kwargs: dict[str, Any] = dict(text=body.text, image=image, logo=logo,
                                      session_id=session_id, project_name=body.projectName,
                                      seed=body.seed)
        if not wait:
            with timed("studio"):
                approval = studio.start_front(who.user, **kwargs, wait=False)
            return api.accepted(request, approval)
        with timed("studio"):
            approval = studio.start_front(who.user, **kwargs)
        return _json(s.FrontViewResponse(
            approvalId=approval.id, sessionId=approval.session_id,
            status=approval.status.value,
            frontView=api.image(request, approval, ViewType.FRONT),
            credits=api.credits(who)))

    @app.post("/api/approve-front-view", response_model=s.ApproveResponse,
              responses={202: {"model": s.Accepted}}, tags=["seed"])
    def approve_front_view(body: s.ApproveFrontRequest, request: Request, bearer: Bearer,
                           wait: Wait = True) -> Any:
        who = api.who(bearer, with_balance=True)
        extra: dict[str, Any] = {} if wait else {"wait": False}
        if body.approved:
            edited = None
            if body.features is not None:
                edited = _features(body.features)  # 422 for a record that does not fit
                if not wait:
                    raise InvalidInput("Edited features are applied once the features are "
                                       "extracted: send them without ?wait=false.")
            with timed("studio"):
                approval = studio.approve(who.user, body.approvalId, **extra)
                if edited is not None:  # the views are generated from the corrected record
                    approval = studio.correct_features(who.user, body.approvalId, edited)
        else:
            if body.features is not None:
                raise InvalidInput("Edited features go with an approval, not a rejection.")
            with timed("studio"):
                approval = studio.reject_and_retry(who.user, body.approvalId,
                                                   body.feedback or "", **extra)
        if not wait:
            return api.accepted(request, approval)
        features = approval.extracted_features
        return _json(s.ApproveResponse(
            approvalId=approval.id, sessionId=approval.session_id,
            status=approval.status.value, approved=body.approved,
            extractedFeatures=features.public_json() if features and body.approved else None,
            frontView=None if body.approved else api.image(request, approval, ViewType.FRONT),
            credits=api.credits(who),
            nextPrice=(studio.prices.for_views(len(approval.missing_views)) if body.approved
                       else 0)))

    @app.post("/api/generate-additional-views", response_model=s.ViewsResponse,
              responses={202: {"model": s.Accepted}}, tags=["seed"])
    def generate_additional_views(body: s.AdditionalViewsRequest, request: Request, bearer: Bearer,
                                  wait: Wait = True) -> Any:
        who = api.who(bearer, with_balance=True)
        if not wait:  # the batch is a durable workflow: start it and point at it
            with timed("studio"):
                batch = studio.start_views(who.user, body.approvalId, body.views)
            return api.accepted(request, studio.get(who.user, batch.approval_id))
        with timed("studio"):
            approval = studio.run_views(who.user, body.approvalId, body.views)
        if approval.view_errors and all(approval.key(v) is None for v in OTHER_VIEWS):
            # nothing landed (all refunded): the provider is the problem, say so
            raise ProviderError(next(iter(approval.view_errors.values())))
        return _json(s.ViewsResponse(
            approvalId=approval.id, status=approval.status.value,
            views=api.views(request, approval, OTHER_VIEWS),
            viewErrors=approval.view_errors, credits=api.credits(who)))

    # ------------------------------------------------------------------ around them
    @app.get("/api/products", response_model=s.ProductList, tags=["products"])
    def list_products(
        request: Request, bearer: Bearer,
        status: Annotated[list[Status] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        userId: Annotated[str | None, Query(description="admins only")] = None,
    ) -> Any:
        who = api.who(bearer)
        if userId and userId != who.user.id and not who.user.is_admin:
            raise PermissionDenied("Only an admin can list another person's products.")
        filters: dict[str, Any] = {"statuses": status, "limit": limit, "offset": offset}
        if userId:
            filters["user_id"] = userId
        elif who.user.is_admin:
            filters["user_id"] = who.user.id  # an admin's own list unless they ask
        with timed("studio"):
            rows = studio.repo.list_approvals(who.user, **filters)
        return _json(s.ProductList(products=[
            s.ProductSummary(id=a.id, status=a.status.value, inputText=a.input_text,
                             createdAt=a.created_at, updatedAt=a.updated_at,
                             url=f"/api/products/{a.id}")
            for a in rows], limit=limit, offset=offset))

    @app.get("/api/products/{approval_id}", response_model=s.Product, tags=["products"])
    def get_product(approval_id: str, request: Request, bearer: Bearer) -> Any:
        who = api.who(bearer)
        with timed("studio"):
            found = status.read(studio, who.user, approval_id)  # one transaction
            job = status.job_of(found.approval, found.calls)
        approval, revisions, history = found.approval, found.revisions, found.history
        features = approval.extracted_features
        return _json(s.Product(
            id=approval.id, sessionId=approval.session_id, status=approval.status.value,
            inputType=approval.input_type.value, inputText=approval.input_text,
            error=approval.error, viewErrors=approval.view_errors,
            views=api.views(request, approval),
            extractedFeatures=features.public_json() if features else None,
            consistency=approval.consistency, rejectionCount=approval.rejection_count,
            feedbackHistory=approval.feedback_history,
            revisions=[s.RevisionOut(
                revisionNumber=r.revision_number, userPrompt=r.user_prompt,
                changes=r.changes_made, createdAt=r.created_at,
                views={v: s.Image(url=api.url(request, d.get("key")),
                                  prompt=d.get("prompt_used"))
                       for v, d in r.image_data.items()})
                for r in revisions],
            rejectedFronts=[s.RejectedFront(feedback=h.user_feedback,
                                            url=api.url(request, h.image_key),
                                            createdAt=h.created_at)
                            for h in history
                            if h.view_type == ViewType.FRONT and h.reason == "rejected"],
            nextActions=api.next_actions(approval),
            job=job, createdAt=approval.created_at,
            approvedAt=approval.approved_at, updatedAt=approval.updated_at))

    @app.post("/api/products/{approval_id}/regenerate", response_model=s.RegenerateResponse,
              responses={202: {"model": s.Accepted}}, tags=["products"])
    def regenerate(approval_id: str, body: s.RegenerateRequest, request: Request, bearer: Bearer,
                   wait: Wait = True) -> Any:
        who = api.who(bearer, with_balance=True)
        if studio.get(who.user, approval_id).status != Status.COMPLETE:
            raise IllegalTransition("Only a complete product can be regenerated; generate its "
                                    "views first (POST /api/generate-additional-views).")
        if not wait:  # what Studio.regenerate waits for, started and pointed at
            with timed("studio"):
                batch = studio.start_views(who.user, approval_id, body.views,
                                           feedback=body.feedback)
            return api.accepted(request, studio.get(who.user, batch.approval_id))
        with timed("studio"):
            revision = studio.regenerate(who.user, approval_id, body.views, body.feedback)
        approval = studio.get(who.user, approval_id)
        return _json(s.RegenerateResponse(
            approvalId=approval.id, status=approval.status.value,
            revisionNumber=revision.revision_number,
            regenerated=list(revision.changes_made.get("regenerated", [])),
            views=api.views(request, approval), credits=api.credits(who)))

    @app.post("/api/products/{approval_id}/retry-front", response_model=s.FrontViewResponse,
              responses={202: {"model": s.Accepted}}, tags=["products"])
    def retry_front(approval_id: str, request: Request, bearer: Bearer, wait: Wait = True) -> Any:
        who = api.who(bearer, with_balance=True)
        if not wait:
            with timed("studio"):
                approval = studio.retry_front(who.user, approval_id, wait=False)
            return api.accepted(request, approval)
        with timed("studio"):
            approval = studio.retry_front(who.user, approval_id)
        return _json(s.FrontViewResponse(
            approvalId=approval.id, sessionId=approval.session_id,
            status=approval.status.value,
            frontView=api.image(request, approval, ViewType.FRONT),
            credits=api.credits(who)))

    @app.get("/api/me", response_model=s.Me, tags=["account"])
    def me(bearer: Bearer) -> Any:
        who = api.who(bearer, with_balance=True)  # the balance read with the token
        user = who.user
        return _json(s.Me(id=user.id, email=user.email, displayName=user.display_name,
                    role=user.role.value, authenticatedWith=who.via,
                    credits=who.balance, prices=api.price_list()))

    @app.get("/api/images/{key:path}", tags=["images"],
             responses={200: {"content": {"image/png": {}}}})
    def image(key: str, exp: str = "", sig: str = "") -> Response:
        """An image by a signed link from this API (no bearer token: the link is the pass)."""
        api.signer.verify(key, exp, sig)
        with timed("studio"):
            data = studio.blobs.get(check_key(key))
        ext = key.rsplit(".", 1)[-1].lower()
        return Response(data, media_type=_CONTENT_TYPES.get(ext, "application/octet-stream"),
                        headers={"Cache-Control": "private, max-age=300",
                                 "X-Content-Type-Options": "nosniff"})

    return app


def _json(body: BaseModel) -> Response:
    """The body as JSON, serialised once by pydantic. A route's ``response_model`` still
    documents it in /docs, but FastAPI passes a ``Response`` through as it is instead of
    dumping the model, validating the dump against the same model and encoding it again
    (about 0.8 ms of a product's 1 ms of serialisation, measured by bench/api.py)."""
    return Response(body.model_dump_json(), media_type="application/json")


def _features(data: dict[str, Any]) -> ExtractedFeatures:
    try:
        return ExtractedFeatures.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "features"
        raise InvalidFeatures(f"The edited features are not valid: {where}: "
                              f"{first.get('msg', 'invalid')}.") from exc

