"""The stepped workflow: front -> review -> four views in parallel -> complete -> revise.

``Studio`` is the one object pages, the CLI and the API talk to. Each action validates
its input and makes its state change and credit reservation in one transaction, then
starts a durable workflow (``viewgen.durable``, DBOS) under an id derived from the
request and, unless asked not to wait, waits for it. The workflow's steps call back into
the ``run_*`` methods here: each provider call, the image it stores, the reservation it
commits or refunds and the ``generation_calls`` row it records belong to one step, and
every step first looks for the row its ``step_key`` names, so a step replayed after a
crash never calls, stores or charges twice. A view batch fans out on the image queue;
each view succeeds or fails on its own. Pages read progress from the database, so a
reload, a second tab or another replica sees the same state.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from viewgen import batches, credits, durable, errors, prompts, states, validation
from viewgen.blobs import BlobStore, image_key
from viewgen.domain import (
    ALL_VIEWS,
    OPTIONAL_VIEWS,
    OTHER_VIEWS,
    STORED_VIEWS,
    Approval,
    ExtractedFeatures,
    GeneratedImage,
    GenerationRequest,
    InputType,
    RetryMode,
    Revision,
    Status,
    User,
    ViewType,
)
from viewgen.errors import (
    InsufficientCredits,
    InvalidInput,
    NotFound,
    ProviderError,
    ViewgenError,
)
from viewgen.providers import FeatureExtractor, ImageGenerator
from viewgen.settings import Settings
from viewgen.store import SYSTEM, Repository, Tx

log = logging.getLogger(__name__)

S = Status
HERO_MARK = "-hero"  # ends the id of a views workflow that draws the hero view


@dataclass
class ViewOutcome:
    """One view of a batch, as it landed (or failed)."""

    view: ViewType
    ok: bool
    key: str | None = None
    error: str | None = None
    latency_ms: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ViewOutcome:
        return cls(ViewType(data["view"]), bool(data.get("ok")), key=data.get("key"),
                   error=data.get("error"), latency_ms=float(data.get("latency_ms") or 0.0))


@dataclass
class ViewBatch:
    """A running batch of views (a durable workflow): iterate it for outcomes as they
    land, or ``wait()`` for the product as it stands when the batch ends."""

    studio: Studio
    actor: User
    approval_id: str
    views: tuple[ViewType, ...]
    workflow_id: str
    outcomes: list[ViewOutcome] = field(default_factory=list)

    def __iter__(self) -> Iterator[ViewOutcome]:
        pending = {v.value for v in self.views} - {o.view.value for o in self.outcomes}
        polls = durable.polls(max(0.02, self.studio.settings.queue_poll_s))
        while pending:
            for view in sorted(pending):
                child = f"{self.workflow_id}:{view}"
                if durable.status(child) in ("SUCCESS", "ERROR", "CANCELLED"):
                    try:
                        data = durable.retrieve_result(child)
                    except Exception as exc:  # a crashed child counts as a failed view
                        data = {"view": view, "ok": False, "error": str(exc)}
                    outcome = ViewOutcome.from_dict(data)
                    pending.discard(view)
                    self.outcomes.append(outcome)
                    yield outcome
            if pending:
                if durable.status(self.workflow_id) in ("ERROR", "CANCELLED"):
                    return
                time.sleep(next(polls))

    def wait(self, timeout: float | None = None) -> Approval:
        """Wait for the batch and return the approval as it stands when the batch ends.

        The batch has ended once its last step has settled the product (complete, or
        back to ``approved`` with the failed views named); the consistency analysis
        that follows in the same workflow is advisory and not waited for here
        (``Studio.wait_for_analysis``), as before durable execution.
        """
        polls = durable.polls(max(0.02, self.studio.settings.queue_poll_s))
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            approval = self.studio.get(self.actor, self.approval_id)
            if approval.status != S.VIEWS_GENERATING or approval.workflow_id != self.workflow_id:
                return approval
            if durable.status(self.workflow_id) in ("SUCCESS", "ERROR", "CANCELLED"):
                return self.studio.get(self.actor, self.approval_id)
            if deadline is not None and time.monotonic() > deadline:
                return approval
            time.sleep(next(polls))

    @property
    def approval(self) -> Approval:
        return self.wait()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Attempt:
    """One provider call of a step, with the QA gate's verdict on its image."""

    result: GeneratedImage
    latency: float
    qa: Any = None  # viewgen.quality.QAResult, or None when the gate could not run

    @property
    def score(self) -> float:
        return float(self.qa.score) if self.qa is not None else 100.0

    @property
    def passed(self) -> bool:
        return self.qa is None or bool(self.qa.passed)


def _raise_from(result: dict[str, Any]) -> None:
    """Re-raise, in the caller's thread, the typed error a workflow step returned."""
    if result.get("ok"):
        return
    cls = getattr(errors, str(result.get("error_type") or ""), None)
    message = result.get("error") or "The generation failed."
    if isinstance(cls, type) and issubclass(cls, ProviderError):
        raise cls(message, provider=result.get("provider") or "")
    if cls is InsufficientCredits:
        raise InsufficientCredits(message, needed=0, balance=0)
    if isinstance(cls, type) and issubclass(cls, ViewgenError):
        raise cls(message)
    raise ProviderError(message)


def _error_dict(error: ViewgenError, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": error.user_message, "error_type": type(error).__name__,
            "provider": getattr(error, "provider", ""), **extra}


class Studio:
    """Services and the workflow over them. Build it once per process.

    Building a Studio launches this process's durable executor for it (``executor``:
    ``embedded`` runs workflows here, ``off`` only enqueues them for workers; default
    from ``VIEWGEN_WORKER``).
    """

    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        blobs: BlobStore,
        generator: ImageGenerator,
        extractor: FeatureExtractor,
        *,
        executor: str | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.blobs = blobs
        self.generator = generator
        self.extractor = extractor
        self.prices = credits.Prices.from_settings(settings)
        self.executor_id = durable.launch(self, kind=executor)

    # ------------------------------------------------------------------ input checks
    def clean_text(self, text: str | None, *, what: str = "description",
                   required: bool = False) -> str | None:
        """Stripped text, or None; NUL bytes, lone surrogates and over-long text are
        refused with a sentence (``viewgen.validation.clean_text``)."""
        return validation.clean_text(text, what=what, max_chars=self.settings.max_text_chars,
                                     required=required)

    def clean_image(self, data: bytes | None, *, what: str) -> bytes | None:
        """Validate an uploaded image and return it as a normalised PNG."""
        if data is None:
            return None
        from viewgen import imaging

        image = imaging.load_image(
            data,
            max_bytes=self.settings.max_upload_bytes,
            max_pixels=self.settings.max_image_pixels,
            what=what,
        )
        return imaging.normalise_png(image)

    # ------------------------------------------------------------------ reads
    def balance(self, actor: User) -> int:
        with self.repo.tx(actor) as tx:
            return credits.balance(tx, actor.id)

    def get(self, actor: User, approval_id: str) -> Approval:
        return self.repo.get_approval(actor, approval_id)

    def image_bytes(self, actor: User, key: str) -> bytes:
        """The bytes of an image this actor may see (their own, or any for an admin)."""
        with self.repo.tx(actor) as tx:
            if not tx.owns_key(key):
                raise NotFound("That image was not found.")
        return self.blobs.get(key)

    def view_images(self, actor: User, approval: Approval) -> dict[ViewType, bytes]:
        return {
            v: self.image_bytes(actor, key)
            for v in STORED_VIEWS
            if (key := approval.key(v))
        }

    def history(self, actor: User, approval_id: str):
        return self.repo.list_history(actor, approval_id)

    def revisions(self, actor: User, approval_id: str) -> list[Revision]:
        with self.repo.tx(actor) as tx:
            return tx.revisions_for(approval_id)

    def estimated_views(self, actor: User, approval: Approval) -> frozenset[ViewType]:
        """The views of a photo product that the offline renderer estimated from that one
        photo (its hidden sides, a lathe or an extrusion of the silhouette), for the
        "Estimated from one photo" label. Read from the recorded calls (the kept image
        of each view), so a view later drawn by another provider is not labelled."""
        if not approval.reference_key:
            return frozenset()
        with self.repo.tx(actor) as tx:
            calls = tx.list_calls(approval.id)
        last: dict[str, str] = {}
        for call in calls:  # oldest first: the newest kept image of each view wins
            if call["kind"] == "image" and call["outcome"] == "ok" and call["step_key"]:
                last[call["view_type"]] = call["provider"]
        return frozenset(v for v in STORED_VIEWS  # the hero too: estimated the same way
                         if v != ViewType.FRONT and approval.key(v)
                         and last.get(v.value) == "offline")

    def busy(self, approval: Approval) -> str | None:
        """What the product's workflow is doing now: ``front``, ``approve``, ``views``,
        or None when nothing runs (for progress displays; read from the database)."""
        wfid = approval.workflow_id or ""
        action = wfid.split(":")[1] if wfid.count(":") >= 2 else None
        if approval.status in states.GENERATING:
            return "front" if approval.status == S.FRONT_GENERATING else "views"
        if action == "approve" and approval.status == S.FRONT_REVIEW and durable.status(
                wfid) in ("ENQUEUED", "PENDING"):
            return "approve"
        return None

    def making_hero(self, approval: Approval) -> bool:
        """Whether the views running now include the optional hero view."""
        return approval.status == S.VIEWS_GENERATING and (approval.workflow_id or "").endswith(
            HERO_MARK)

    # ------------------------------------------------------------------ for the pages
    # Pages, the API and the CLI talk to Studio only; these pass through to the store
    # with the actor's scope, so no page holds a repository.
    def list_products(self, actor: User, **filters: Any) -> list[Approval]:
        return self.repo.list_approvals(actor, **filters)

    def owned_keys(self, actor: User, keys: set[str]) -> set[str]:
        """The image keys of ``keys`` this actor may see."""
        with self.repo.tx(actor) as tx:
            return {k for k in keys if tx.owns_key(k)}

    def current_user(self, actor: User) -> User | None:
        """The actor as the database has them now (role changes apply at once)."""
        try:
            with self.repo.tx(actor) as tx:
                return tx.get_user(actor.id)
        except NotFound:
            return None

    def no_accounts_yet(self) -> bool:
        with self.repo.tx(SYSTEM) as tx:
            return tx.count_users() == 0

    def remember_browser(self, user: User) -> str | None:
        """"Stay signed in": a token for this browser's cookie (its hash is stored)."""
        from viewgen import auth

        return auth.remember(self.repo, self.settings, user)

    def recall_browser(self, token: str | None) -> User | None:
        from viewgen import auth

        return auth.recall(self.repo, token)

    def forget_browser(self, token: str | None) -> None:
        from viewgen import auth

        auth.forget(self.repo, token)

    @property
    def analytics(self) -> Any:
        """The admin queries (``viewgen.analytics``) bound to this studio's store."""
        from viewgen.analytics import Analytics

        return Analytics(self.repo)

    def feature_corrections(self, actor: User, filters: Any) -> Any:
        """How often people correct the extracted features (admins only)."""
        from viewgen.analytics_features import feature_corrections

        return feature_corrections(self.repo, actor, filters)

    @property
    def api_tokens(self) -> Any:
        """The API token operations (``viewgen.tokens``) bound to this studio's store."""
        from viewgen.tokens import Tokens

        return Tokens(self.repo)

    # ------------------------------------------------------------------ front view
    def start_front(
        self,
        actor: User,
        *,
        text: str | None = None,
        image: bytes | None = None,
        logo: bytes | None = None,
        session_id: str | None = None,
        project_name: str | None = None,
        seed: int | None = None,
        wait: bool = True,
    ) -> Approval:
        """Create a product and generate its front view (charged at the front price).

        With ``wait`` (the default) returns the approval in ``front_review``, or raises a
        ``ViewgenError`` with nothing charged if the input is bad, credits are short or
        the provider fails. With ``wait=False`` it returns at once (``front_generating``).
        """
        text = self.clean_text(text)
        reference = self.clean_image(image, what="reference photo")
        logo_png = self.clean_image(logo, what="logo")
        if text is None and reference is None:
            raise InvalidInput("Describe the product or upload a reference photo to start.")
        approval_id, reservation = self.create_product(
            actor, text=text, reference=reference, logo=logo_png, session_id=session_id,
            project_name=project_name, seed=seed)
        return self._run_front(actor, approval_id, reservation, "1", wait)

    def create_product(
        self, actor: User, *, text: str | None, reference: bytes | None, logo: bytes | None,
        session_id: str | None = None, project_name: str | None = None,
        seed: int | None = None, reservation: int | None = None,
        reference_key: str | None = None, logo_key: str | None = None,
        generate: bool = True, inside: Callable[[Tx, str], None] | None = None,
    ) -> tuple[str, int | None]:
        """Store the inputs, then in one transaction create the project and approval,
        reserve the front price (or adopt ``reservation``) and move to
        ``front_generating``. Nothing is left behind if the transaction fails."""
        from viewgen.store.repository import new_id

        name = (project_name or text or "Product from a photo").strip().splitlines()[0][:80]
        seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31 - 1)
        approval_id = new_id()
        stored: list[str] = []
        try:
            ref_key, logo_key_ = reference_key, logo_key
            if reference is not None:
                ref_key = image_key(actor.id, approval_id, "reference", 1)
                self.blobs.put(ref_key, reference)
                stored.append(ref_key)
            if logo is not None:
                logo_key_ = image_key(actor.id, approval_id, "logo", 1)
                self.blobs.put(logo_key_, logo)
                stored.append(logo_key_)
            with self.repo.tx(actor, write=True) as tx:
                project = tx.insert_project(name)
                tx.insert_approval(
                    approval_id=approval_id, project_id=project.id,
                    input_type=InputType.IMAGE if ref_key else InputType.TEXT,
                    input_text=text, status=S.INPUT, seed=seed, session_id=session_id,
                )
                if ref_key or logo_key_:
                    tx.update_approval(approval_id, reference_key=ref_key, logo_key=logo_key_)
                if inside is not None:
                    inside(tx, approval_id)
                if reservation is not None:
                    credits.attach(tx, reservation, approval_id)
                elif generate:
                    reservation = credits.reserve(
                        tx, actor.id, self.prices.front, "front view", approval_id)
                if generate:
                    tx.transition(approval_id, S.INPUT, S.FRONT_GENERATING, action="generate",
                                  workflow_id=durable.workflow_id(approval_id, "front", "1"))
        except BaseException:
            for key in stored:
                self.blobs.delete(key)
            raise
        return approval_id, reservation

    def retry_front(self, actor: User, approval_id: str, *, wait: bool = True,
                    mode: RetryMode | str = RetryMode.EDIT) -> Approval:
        """Generate a new front after a rejection (retry price) or a failure.

        After a rejection, ``mode`` ``edit`` (the default) asks the provider to change
        only what the feedback says in the rejected image; ``fresh`` draws it again from
        the description and all the feedback. (The offline renderer always rebuilds its
        model from the words.)"""
        mode = RetryMode(mode)
        with self.repo.tx(actor, write=True) as tx:
            reservation, attempt = self._reserve_front_retry(tx, approval_id)
        return self._run_front(actor, approval_id, reservation, attempt, wait, mode)

    def _reserve_front_retry(self, tx: Tx, approval_id: str) -> tuple[int | None, str]:
        approval = tx.get_approval(approval_id, for_update=True)
        if approval.status == S.FAILED and approval.extracted_features is not None:
            raise InvalidInput(
                "The front of this product is already approved; retry the views instead."
            )
        if approval.status == S.FRONT_REVIEW:  # legal only for a flagged front's free try
            states.require(approval.status, S.REVISION_REQUESTED,
                           action="generate a new front view")
        states.check(approval.status, S.FRONT_GENERATING, action="generate a new front view")
        after_rejection = approval.rejection_count > 0
        price = self.prices.for_front(after_rejection=after_rejection)
        reason = "front retry after rejection" if after_rejection else "front view"
        reservation = credits.reserve(tx, approval.user_id, price, reason, approval_id)
        attempt = f"{approval.rejection_count}-{len(tx.list_calls(approval_id))}"
        tx.transition(approval_id, approval.status, S.FRONT_GENERATING,
                      action="generate a new front view", error=None,
                      workflow_id=durable.workflow_id(approval_id, "front", attempt))
        return reservation, attempt

    def retry_flagged_front(self, actor: User, approval_id: str, *,
                            wait: bool = True) -> Approval:
        """"Try again, free" for a front the QA gate still flags after its automatic
        retries: draw it afresh (description and all feedback, another seed) at no
        charge; the call is recorded, not charged. Only while that front waits for
        review. A second click while the first runs returns the running one; nothing
        else starts (the product is ``front_generating`` and the id is the same)."""
        with self.repo.tx(actor, write=True) as tx:
            approval = tx.get_approval(approval_id, for_update=True)
            running = approval.workflow_id or ""
            if approval.status == S.FRONT_GENERATING and ":front:free-" in running:
                return self.repo.get_approval(actor, approval_id)
            verdict = approval.qa.get("front") or {}
            if approval.status == S.FRONT_REVIEW and (
                    verdict.get("passed", True) or not approval.key(ViewType.FRONT)):
                raise InvalidInput("Only a front the quality check flagged can be tried "
                                   "again for free; reject it with feedback instead.")
            states.require(approval.status, S.FRONT_REVIEW,
                           action="try the front view again for free")
            attempt = f"free-{len(tx.list_calls(approval_id))}"
            seed = random.SystemRandom().randrange(1, 2**31 - 1)
            tx.transition(approval_id, S.FRONT_REVIEW, S.FRONT_GENERATING,
                          action="try the flagged front again, free", error=None, seed=seed,
                          workflow_id=durable.workflow_id(approval_id, "front", attempt))
        return self._run_front(actor, approval_id, None, attempt, wait, RetryMode.FRESH,
                               free=True)

    def front_price(self, approval: Approval | None) -> int:
        return self.prices.for_front(after_rejection=bool(approval and approval.rejection_count))

    def _run_front(self, actor: User, approval_id: str, reservation: int | None,
                   attempt: str, wait: bool, mode: RetryMode = RetryMode.EDIT, *,
                   free: bool = False) -> Approval:
        wfid = durable.workflow_id(approval_id, "front", attempt)
        handle = durable.enqueue(wfid, durable.front_flow, actor.id, approval_id,
                                 reservation, mode.value, free, studio=self)
        if wait:
            _raise_from(durable.wait(handle.get_workflow_id(), self.settings.queue_poll_s))
        return self.repo.get_approval(actor, approval_id)

    def run_front_step(self, actor_id: str, approval_id: str, reservation: int | None,
                       step_key: str, mode: str = RetryMode.EDIT.value,
                       free: bool = False) -> dict[str, Any]:
        """The front workflow's step: generate, store, commit and record, or refund.
        ``free``: a flagged front drawn again, recorded and never charged."""
        actor = self.user(actor_id)
        with self.repo.tx(actor) as tx:
            done = tx.call_for_step(step_key)
        if done is not None:  # a replay: the earlier run finished this step
            return {"ok": done["outcome"] == "ok", "error": done["error"],
                    "error_type": done["outcome"]}
        approval = self.repo.get_approval(actor, approval_id)
        if approval.status != S.FRONT_GENERATING:
            return {"ok": approval.status == S.FRONT_REVIEW, "error": approval.error}
        try:
            reference = self._owned_blob(approval, approval.reference_key)
            logo = self._owned_blob(approval, approval.logo_key)
            prompt = prompts.front_prompt(
                approval.input_text, has_reference=reference is not None,
                has_logo=logo is not None, feedback=approval.feedback_history,
            )
            edit_of = self._rejected_front(actor, approval) \
                if mode == RetryMode.EDIT.value and approval.rejection_count \
                and not free else None
            if edit_of is not None:
                prompt = prompts.edit_prompt(approval.feedback_history,
                                             text=approval.input_text, has_logo=logo is not None)
            request = GenerationRequest(
                view=ViewType.FRONT, prompt=prompt, text=approval.input_text,
                reference=reference, logo=logo, feedback=tuple(approval.feedback_history),
                seed=approval.seed, size=self._size, edit_of=edit_of,
                retry_mode=RetryMode.EDIT if edit_of is not None else RetryMode.FRESH,
            )
        except ViewgenError as exc:
            self._fail_front(actor, approval, reservation, exc, None, 0.0, step_key,
                             free=free)
            return _error_dict(exc)

        def check(image: bytes) -> Any:
            from viewgen import quality

            wanted = " ".join(filter(None, [approval.input_text, *approval.feedback_history]))
            return quality.check_front(image, text=wanted or None, reference=reference,
                                       logo=logo)

        attempts, error, latency = self._generate_checked(request, check)
        if not attempts:
            assert error is not None
            self._fail_front(actor, approval, reservation, error, None, latency, step_key,
                             free=free)
            return _error_dict(error)
        kept = max(attempts, key=lambda a: a.score)
        result, latency = kept.result, kept.latency
        change = None if free else self._front_change(actor, approval, result.data)
        key = None
        try:
            with self.repo.tx(actor, write=True) as tx:
                current = tx.get_approval(approval_id, for_update=True)
                key = self._next_key(tx, current, ViewType.FRONT)
                self.blobs.put(key, result.data, result.mime_type)
                if old_key := current.key(ViewType.FRONT):  # a flagged front tried again
                    tx.insert_history(current, ViewType.FRONT, old_key,
                                      current.prompt(ViewType.FRONT), None, "replaced")
                tx.set_view(approval_id, ViewType.FRONT, key, prompt)
                tx.transition(approval_id, S.FRONT_GENERATING, S.FRONT_REVIEW,
                              action="show the new front view", error=None)
                charge = not free and (change is None or bool(change.charge))
                credits.settle(tx, reservation, commit=charge)
                self._record_attempts(tx, current, ViewType.FRONT, attempts, kept, error,
                                      step_key, charged=charge)
                qa = {"front": kept.qa.model_dump(mode="json") if kept.qa else None,
                      "front_change": change.model_dump(mode="json") if change else None}
                tx.merge_json(approval_id, "qa", qa)
        except BaseException as exc:
            if key:
                self.blobs.delete(key)
            err = exc if isinstance(exc, ViewgenError) else ProviderError(
                "Could not save the new front view.", detail=repr(exc))
            self._fail_front(actor, approval, reservation, err, result, latency, step_key,
                             free=free)
            return _error_dict(err)
        return {"ok": True, "key": key}

    def _fail_front(self, actor: User, approval: Approval, reservation: int | None,
                    error: ViewgenError, result: GeneratedImage | None, latency: float,
                    step_key: str | None = None, *, free: bool = False) -> None:
        """Refund and record a failed front. A failed free try keeps the flagged front
        in review (with the error), so the person loses nothing to it."""
        with self.repo.tx(actor, write=True) as tx:
            credits.settle(tx, reservation, commit=False)
            current = tx.get_approval(approval.id, for_update=True)
            if current.status == S.FRONT_GENERATING and free and current.key(ViewType.FRONT):
                tx.transition(approval.id, S.FRONT_GENERATING, S.FRONT_REVIEW,
                              error="The free try failed; the flagged front is still here. "
                                    + error.user_message)
            elif current.status == S.FRONT_GENERATING:
                tx.transition(approval.id, S.FRONT_GENERATING, S.FAILED,
                              error=error.user_message)
            self._record_call(tx, current, ViewType.FRONT, "image", result, latency,
                              error=error, step_key=step_key, charged=not free)

    # ------------------------------------------------------------------ review
    def approve(self, actor: User, approval_id: str, *, wait: bool = True) -> Approval:
        """Approve the front: extract its features, then status ``approved``.

        However often it is asked (twenty clicks, a retried HTTP call), one workflow
        per front runs, so the features are extracted, and paid for, once.
        """
        approval = self.repo.get_approval(actor, approval_id)
        states.check(approval.status, S.APPROVED, action="approve the front view")
        if not approval.key(ViewType.FRONT):
            raise InvalidInput("There is no front view to approve yet.")
        with self.repo.tx(actor) as tx:  # a failed extraction is recorded: the next is new
            tried = sum(1 for c in tx.list_calls(approval_id) if c["kind"] == "features")
        wfid = durable.workflow_id(approval_id, "approve",
                                   f"{approval.key(ViewType.FRONT) or ''}#{tried}")
        with self.repo.tx(actor, write=True) as tx:  # so every page can show it is running
            tx.update_approval(approval_id, workflow_id=wfid)
        handle = durable.enqueue(wfid, durable.approve_flow, actor.id, approval_id,
                                 studio=self)
        if wait:
            _raise_from(durable.wait(handle.get_workflow_id(), self.settings.queue_poll_s))
        return self.repo.get_approval(actor, approval_id)

    def run_extract_step(self, actor_id: str, approval_id: str, step_key: str) -> dict[str, Any]:
        actor = self.user(actor_id)
        with self.repo.tx(actor) as tx:
            done = tx.call_for_step(step_key)
        if done is not None:
            return {"ok": done["outcome"] == "ok", "error": done["error"],
                    "error_type": done["outcome"]}
        approval = self.repo.get_approval(actor, approval_id)
        if approval.status != S.FRONT_REVIEW:
            return {"ok": approval.extracted_features is not None,
                    "error": "The front view is no longer waiting for review.",
                    "error_type": "IllegalTransition"}
        front = self.blobs.get(approval.key(ViewType.FRONT) or "")
        started = time.perf_counter()
        try:
            extraction = self.extractor.extract(front)
        except Exception as exc:
            error = self._as_provider_error(exc, self.extractor.name)
            latency = (time.perf_counter() - started) * 1000
            with self.repo.tx(actor, write=True) as tx:
                tx.insert_call(
                    approval=approval, view=ViewType.FRONT, kind="features",
                    provider=self.extractor.name, model=getattr(self.extractor, "model", "?"),
                    attempts=getattr(error, "attempts", 1), latency_ms=latency,
                    outcome=type(error).__name__, error=error.user_message, step_key=step_key,
                )
            return _error_dict(error)
        latency = (time.perf_counter() - started) * 1000
        with self.repo.tx(actor, write=True) as tx:
            tx.transition(
                approval_id, S.FRONT_REVIEW, S.APPROVED, action="approve the front view",
                extracted_features=extraction.features.model_dump(mode="json"),
                approved_at=_now(), error=None,
            )
            usage = extraction.usage
            tx.insert_call(
                approval=approval, view=ViewType.FRONT, kind="features",
                provider=usage.provider, model=usage.model, attempts=usage.attempts,
                latency_ms=latency, outcome="ok", input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens, images=0, cost_usd=usage.cost_usd,
                step_key=step_key,
            )
        return {"ok": True}

    def correct_features(self, actor: User, approval_id: str,
                         features: ExtractedFeatures) -> Approval:
        """The person's corrections to the extracted features, before the views are
        generated from them (the record keeps the features as extracted too)."""
        with self.repo.tx(actor, write=True) as tx:
            tx.get_approval(approval_id, for_update=True)
            tx.set_approved_features(approval_id, features)
        return self.repo.get_approval(actor, approval_id)

    def reject(self, actor: User, approval_id: str, feedback: str) -> Approval:
        """Reject the front with feedback: a history row, then ``revision_requested``."""
        feedback_text = self.clean_text(feedback, what="feedback", required=True)
        with self.repo.tx(actor, write=True) as tx:
            approval = tx.get_approval(approval_id, for_update=True)
            states.check(approval.status, S.REVISION_REQUESTED, action="reject the front view")
            key = approval.key(ViewType.FRONT)
            if key:
                tx.insert_history(approval, ViewType.FRONT, key, approval.prompt(ViewType.FRONT),
                                  feedback_text, "rejected")
            tx.transition(
                approval_id, S.FRONT_REVIEW, S.REVISION_REQUESTED, action="reject",
                user_feedback=feedback_text,
                feedback_history=[*approval.feedback_history, feedback_text],
                rejection_count=approval.rejection_count + 1,
                front_key=None, front_prompt=None,
            )
        return self.repo.get_approval(actor, approval_id)

    def reject_and_retry(self, actor: User, approval_id: str, feedback: str, *,
                         wait: bool = True, mode: RetryMode | str = RetryMode.EDIT) -> Approval:
        self.reject(actor, approval_id, feedback)
        return self.retry_front(actor, approval_id, wait=wait, mode=mode)

    # ------------------------------------------------------------------ other views
    def retry_flagged_view(self, actor: User, approval_id: str, view: ViewType) -> ViewBatch:
        """"Try again, free": draw a view the QA gate flagged once more, at no charge."""
        view = ViewType(view)
        approval = self.repo.get_approval(actor, approval_id)
        verdict = approval.qa.get(view.value) or {}
        if view == ViewType.FRONT or verdict.get("passed", True):
            raise InvalidInput("Only a view the quality check flagged can be tried again "
                               "for free; regenerate it with feedback instead.")
        return self.start_views(actor, approval_id, [view], free=True)

    def start_views(
        self,
        actor: User,
        approval_id: str,
        views: Sequence[ViewType] | None = None,
        *,
        feedback: str | None = None,
        free: bool = False,
        hero: bool = False,
    ) -> ViewBatch:
        """Reserve and start the views in parallel; iterate the batch for outcomes.

        With no ``views``: every view still missing (all four the first time), and with
        ``hero`` the optional three-quarter hero view too (alone, on a complete product:
        "Add hero view"). On a complete product, ``views`` with ``feedback`` regenerates
        them and writes a new numbered revision. Returns at once: the work runs as a
        durable workflow.
        """
        feedback_text = self.clean_text(feedback, what="feedback") if feedback else None
        with self.repo.tx(actor, write=True) as tx:
            chosen, reservations, regenerating, wfid, feedback_list = self._reserve_views(
                tx, approval_id, views, feedback_text, free=free, hero=hero)
        durable.start(wfid, durable.views_flow, actor.id, approval_id,
                        [v.value for v in chosen], reservations, feedback_list, feedback_text,
                        regenerating, studio=self)
        return ViewBatch(self, actor, approval_id, tuple(chosen), wfid)

    def _reserve_views(self, tx: Tx, approval_id: str, views: Sequence[ViewType] | None,
                       feedback_text: str | None, *, free: bool = False, hero: bool = False,
                       ) -> tuple[list[ViewType], dict[str, int | None], bool, str, list[str]]:
        approval = tx.get_approval(approval_id, for_update=True)
        if approval.extracted_features is None:
            raise InvalidInput("Approve the front view before generating the other views.")
        chosen = self._choose_views(approval, views, hero=hero)
        states.check(approval.status, S.VIEWS_GENERATING, action="generate views")
        regenerating = approval.status == S.COMPLETE
        reservations: dict[str, int | None] = {}
        try:
            for view in chosen:
                reservations[view.value] = credits.reserve(
                    tx, approval.user_id, 0 if free else self.prices.for_view(approval, view),
                    f"{view.value} view", approval_id)
        except InsufficientCredits as exc:
            total = self.prices.quote_views(approval, chosen).credits
            held = sum(self.prices.for_view(approval, ViewType(v)) for v in reservations)
            have = credits.balance(tx, approval.user_id) + held
            noun = "view costs" if len(chosen) == 1 else "views cost"
            unit = "credit" if total == 1 else "credits"
            raise InsufficientCredits(
                f"{len(chosen)} {noun} {total} {unit} and you have {have}. "
                "Ask an admin for more credits.", needed=total, balance=have,
            ) from exc
        attempt = f"{len(tx.revisions_for(approval_id))}-{len(tx.list_calls(approval_id))}"
        if ViewType.HERO in chosen:  # so every page can tell a hero is being drawn
            attempt += HERO_MARK
        wfid = durable.workflow_id(approval_id, "views", attempt)
        tx.transition(
            approval_id, approval.status, S.VIEWS_GENERATING, action="generate views",
            error=None, workflow_id=wfid,
            view_errors={k: v for k, v in approval.view_errors.items()
                         if k not in {c.value for c in chosen}},
        )
        feedback_list = [*approval.feedback_history, *([feedback_text] if feedback_text else [])]
        return chosen, reservations, regenerating, wfid, feedback_list

    def run_views(self, actor: User, approval_id: str,
                  views: Sequence[ViewType] | None = None, *,
                  feedback: str | None = None) -> Approval:
        """``start_views`` and wait for the batch to end."""
        return self.start_views(actor, approval_id, views, feedback=feedback).wait()

    def retry_view(self, actor: User, approval_id: str, view: ViewType) -> ViewBatch:
        return self.start_views(actor, approval_id, [view])

    def regenerate(self, actor: User, approval_id: str, views: Sequence[ViewType],
                   feedback: str) -> Revision:
        """Regenerate chosen views of a complete product; returns the new revision."""
        if not views:
            raise InvalidInput("Choose at least one view to regenerate.")
        approval = self.start_views(actor, approval_id, views, feedback=feedback).wait()
        revisions = self.revisions(actor, approval.id)
        if not revisions:
            raise InvalidInput("No view could be regenerated; nothing was charged.")
        return revisions[-1]

    def add_hero(self, actor: User, approval_id: str) -> ViewBatch:
        """"Add hero view": the optional three-quarter view for a product that has its
        views (priced ``Prices.hero``; refunded if it fails; written as a revision)."""
        return self.start_views(actor, approval_id, [ViewType.HERO])

    def _choose_views(self, approval: Approval, views: Sequence[ViewType] | None, *,
                      hero: bool = False) -> list[ViewType]:
        if views is None and hero:
            chosen = approval.missing_views
            if not approval.has_hero:
                chosen.append(ViewType.HERO)
            if not chosen:
                raise InvalidInput("This product has all its views and a hero view already: "
                                   "regenerate the hero with feedback instead.")
            return chosen
        if views is None:
            chosen = approval.missing_views
            if not chosen:
                raise InvalidInput(
                    "All five views exist already: choose which views to regenerate."
                )
            return chosen
        chosen = []
        for view in views:
            view = validation.parse_view(view)
            if view == ViewType.FRONT:
                raise InvalidInput(
                    "The approved front anchors the other views and cannot be regenerated "
                    "here; start a new product to change the front."
                )
            if view not in chosen:
                chosen.append(view)
        if not chosen:
            raise InvalidInput("Choose at least one view.")
        return chosen

    def run_view_step(self, actor_id: str, approval_id: str, view_name: str,
                      reservation: int | None, feedback: list[str], new_feedback: str | None,
                      step_key: str) -> dict[str, Any]:
        """One view's step: generate, store (keeping the old image in history), commit and
        record; or refund and note the view's error."""
        actor = self.user(actor_id)
        view = ViewType(view_name)
        with self.repo.tx(actor) as tx:
            done = tx.call_for_step(step_key)
            approval = tx.get_approval(approval_id)
        if done is not None:
            return {"view": view.value, "ok": done["outcome"] == "ok",
                    "key": approval.key(view), "error": done["error"]}
        features = approval.extracted_features or ExtractedFeatures()
        try:
            front = self._owned_blob(approval, approval.key(ViewType.FRONT))
            logo = self._owned_blob(approval, approval.logo_key)
        except ViewgenError as exc:
            return self._fail_view(actor, approval, view, reservation, exc, None, 0.0, step_key)
        prompt = prompts.view_prompt(view, features, text=approval.input_text,
                                     has_logo=logo is not None, feedback=tuple(feedback))
        try:
            reference = self._owned_blob(approval, approval.reference_key)
        except ViewgenError:
            reference = None
        request = GenerationRequest(
            view=view, prompt=prompt, text=approval.input_text, reference=reference, logo=logo,
            front=front, features=features, feedback=tuple(feedback), seed=approval.seed,
            size=self._size,
        )
        from viewgen import quality

        others = {v: self.blobs.get(k) for v in (*OTHER_VIEWS, *OPTIONAL_VIEWS)
                  if v != view and (k := approval.key(v))}  # a hero that still shows an
        # old colour after this regeneration is flagged too (it is in no shape rule)
        estimated = bool(approval.reference_key) and self.generator.name == "offline"
        wanted = " ".join(filter(None, [approval.input_text, *feedback])) or None

        def check(image: bytes) -> Any:
            return quality.check_view(view, image, front=front, features=features,
                                      others=others, text=wanted, estimated=estimated)

        attempts, error, latency = self._generate_checked(request, check)
        result = None
        if attempts:
            kept = max(attempts, key=lambda a: a.score)
            result, latency = kept.result, kept.latency
            change = None
            old_key = approval.key(view)
            if old_key and new_feedback:  # a regeneration: did the feedback change it?
                try:
                    change = quality.check_change(self.blobs.get(old_key), result.data,
                                                  new_feedback, view=view, others=others)
                except Exception:
                    log.exception("could not compare the regenerated %s view", view.value)
            charge = change is None or bool(change.charge)
            key = None
            try:
                with self.repo.tx(actor, write=True) as tx:
                    current = tx.get_approval(approval.id, for_update=True)
                    key = self._next_key(tx, current, view)
                    self.blobs.put(key, result.data, result.mime_type)
                    if old_key := current.key(view):
                        tx.insert_history(current, view, old_key, current.prompt(view),
                                          new_feedback, "replaced")
                    tx.set_view(approval.id, view, key, prompt)
                    credits.settle(tx, reservation, commit=charge)
                    self._record_attempts(tx, current, view, attempts, kept, error, step_key,
                                          charged=charge)
                    verdict = kept.qa.model_dump(mode="json") if kept.qa else {}
                    if change is not None:
                        verdict["change"] = change.model_dump(mode="json")
                    tx.merge_json(approval.id, "qa", {view.value: verdict or None})
                outcome = {"view": view.value, "ok": True, "key": key, "latency_ms": latency,
                           "charged": charge}
                if not charge and change is not None:
                    outcome["notice"] = change.reason
                return outcome
            except Exception as exc:  # storing failed: nothing points at the blob
                if key:
                    self.blobs.delete(key)
                error = exc if isinstance(exc, ViewgenError) else ProviderError(
                    f"Could not save the {view.value} view.", detail=repr(exc))
                log.warning("storing %s view failed: %r", view.value, exc)
        assert error is not None
        return self._fail_view(actor, approval, view, reservation, error, result, latency,
                               step_key)

    def _fail_view(self, actor: User, approval: Approval, view: ViewType,
                   reservation: int | None, error: ViewgenError,
                   result: GeneratedImage | None, latency: float,
                   step_key: str) -> dict[str, Any]:
        with self.repo.tx(actor, write=True) as tx:
            credits.settle(tx, reservation, commit=False)
            current = tx.get_approval(approval.id)
            tx.merge_json(approval.id, "view_errors", {view.value: error.user_message})
            self._record_call(tx, current, view, "image", result, latency, error=error,
                              step_key=step_key)
        return {"view": view.value, "ok": False, "error": error.user_message,
                "latency_ms": latency}

    def finish_views(self, actor_id: str, approval_id: str, outcome_dicts: list[dict[str, Any]],
                     regenerating: bool, feedback: str | None) -> None:
        """The batch's last step: complete the product (and write its revision) or send it
        back to ``approved`` with the failed views named; refund what is still held."""
        actor = self.user(actor_id)
        outcomes = [ViewOutcome.from_dict(o) for o in outcome_dicts]
        landed = [o.view for o in outcomes if o.ok]
        failed = {o.view.value: o.error or "failed" for o in outcomes if not o.ok}
        not_charged = {o["view"]: o["notice"] for o in outcome_dicts if o.get("notice")}
        with self.repo.tx(actor, write=True) as tx:
            approval = tx.get_approval(approval_id, for_update=True)
            if approval.status != S.VIEWS_GENERATING:
                return  # a replay of a step that already finished
            for reservation in credits.open_reservations(tx, approval_id):
                credits.refund(tx, reservation)  # a crashed job's reservation
            if not approval.missing_views:
                tx.transition(approval_id, S.VIEWS_GENERATING, S.COMPLETE,
                              action="complete the product", completed_at=_now())
                first = not tx.revisions_for(approval_id)
                if first or landed:
                    self._write_revision(tx, approval, landed, failed, feedback, first,
                                         regenerating, not_charged)
            else:
                n = len(failed)
                tx.transition(approval_id, S.VIEWS_GENERATING, S.APPROVED,
                              action="record the failed views",
                              error=f"{n} {'view' if n == 1 else 'views'} failed: "
                                    "retry them one by one.")

    def _write_revision(self, tx: Tx, approval: Approval, landed: list[ViewType],
                        failed: dict[str, str], feedback: str | None, first: bool,
                        regenerating: bool, not_charged: dict[str, str] | None = None
                        ) -> Revision:
        current = tx.get_approval(approval.id)
        stamp = _now().isoformat()
        shown = [v for v in STORED_VIEWS if v in ALL_VIEWS or current.key(v)]  # hero if any
        image_data = {
            v.value: {"key": current.key(v), "prompt_used": current.prompt(v),
                      "created_at": stamp}
            for v in shown
        }
        if first and not regenerating:
            regenerated = [v.value for v in shown if v in ALL_VIEWS or v in landed]
            preserved: list[str] = []
            modifications = "; ".join(current.feedback_history) or None
        else:
            regenerated = [v.value for v in landed]
            preserved = [v.value for v in shown if v not in landed]
            modifications = feedback
        changes: dict[str, Any] = {"regenerated": regenerated, "preserved": preserved,
                                   "modifications": modifications}
        if failed:
            changes["failed"] = failed
        if not_charged:  # the feedback could not be applied: refunded
            changes["not_charged"] = not_charged
        before = tx.revisions_for(approval.id)
        had = before[-1].image_data if before else {}
        added = [v.value for v in landed
                 if v in OPTIONAL_VIEWS and not (had.get(v.value) or {}).get("key")]
        if added:  # an optional view made for the first time ("Add hero view")
            changes["added"] = added
        return tx.insert_revision(current, user_prompt=feedback or current.input_text,
                                  image_data=image_data, changes_made=changes)

    # ------------------------------------------------------------------ consistency
    def analyse(self, actor_id: str, approval_id: str, views: list[str]) -> None:
        """Score the views against the front (advisory: never fails the workflow)."""
        from viewgen import consistency

        try:
            actor = self.user(actor_id)
            approval = self.repo.get_approval(actor, approval_id)
            features = approval.extracted_features
            front_key = approval.key(ViewType.FRONT)
            if features is None or not front_key:
                return
            images = {v: self.blobs.get(k) for v in (*OTHER_VIEWS, *OPTIONAL_VIEWS)
                      if (k := approval.key(v))}
            front = self.blobs.get(front_key)
            scores = consistency.score_views(front, images, features,
                                             text=approval.input_text)
            patch = {v.value: s.model_dump(mode="json") for v, s in scores.items()}
            product = self._product_qa(approval, front, images)
            with self.repo.tx(actor, write=True) as tx:
                tx.merge_json(approval_id, "consistency", patch)
                if product is not None:
                    tx.merge_json(approval_id, "qa", {"product": product})
        except Exception:
            log.exception("consistency analysis failed for %s", approval_id)

    def _product_qa(self, approval: Approval, front: bytes,
                    images: dict[ViewType, bytes]) -> dict[str, Any] | None:
        """The product's verdict from the same checks (with any regeneration's change, so
        views that still show what the feedback changed elsewhere are flagged)."""
        from viewgen import quality

        changes = {}
        for view in images:
            stored = (approval.qa.get(view.value) or {}).get("change")
            if stored:
                changes[view] = quality.ChangeResult.model_validate(stored)
        reference = self.blobs.get(approval.reference_key) if approval.reference_key else None
        try:
            product = quality.check_product(
                front, images, approval.extracted_features, text=approval.input_text,
                reference=reference,
                estimated=bool(approval.reference_key) and self.generator.name == "offline",
                changes=changes or None)
        except Exception:
            log.exception("product QA failed for %s", approval.id)
            return None
        return product.model_dump(mode="json")

    def wait_for_analysis(self, approval_id: str, timeout: float | None = 30) -> None:
        """Wait until the product's workflow (views, then their analysis) has ended."""
        with self.repo.tx(SYSTEM) as tx:
            wfid = tx.get_approval(approval_id).workflow_id
        if wfid:
            durable.wait(wfid, self.settings.queue_poll_s, timeout=timeout)

    # ------------------------------------------------------------------ one shot
    def generate_multi_view(
        self, actor: User, *, text: str | None = None, image: bytes | None = None,
        logo: bytes | None = None, auto_approve: bool = True, seed: int | None = None,
        on_view: Callable[[ViewOutcome], None] | None = None, hero: bool = False,
    ) -> Approval:
        """Front, approve, the four views (and with ``hero`` the three-quarter hero): the
        whole flow without a review stop.

        With ``auto_approve=False`` it stops after the front, in ``front_review``.
        """
        approval = self.start_front(actor, text=text, image=image, logo=logo, seed=seed)
        if not auto_approve:
            return approval
        self.approve(actor, approval.id)
        batch = self.start_views(actor, approval.id, hero=hero)
        for outcome in batch:
            if on_view:
                on_view(outcome)
        final = batch.wait()
        self.wait_for_analysis(final.id)
        return self.repo.get_approval(actor, final.id)

    # ------------------------------------------------------------------ batches
    def start_batch(self, actor: User, plan: Any, *, name: str = "",
                    skip_invalid: bool = False) -> str:
        """Queue a validated CSV batch (``viewgen.batch_input.BatchPlan``); its id."""
        return batches.start(self, actor, plan, name=name, skip_invalid=skip_invalid)

    def batch(self, actor: User, batch_id: str) -> batches.BatchView:
        return batches.get(self, actor, batch_id)

    def list_batches(self, actor: User, limit: int = 50) -> list[dict[str, Any]]:
        return batches.list_batches(self, actor, limit)

    def pause_batch(self, actor: User, batch_id: str) -> None:
        batches.pause(self, actor, batch_id)

    def resume_batch(self, actor: User, batch_id: str) -> int:
        return batches.resume(self, actor, batch_id)

    def cancel_batch(self, actor: User, batch_id: str) -> int:
        return batches.cancel(self, actor, batch_id)

    def retry_batch(self, actor: User, batch_id: str) -> int:
        return batches.retry_failed(self, actor, batch_id)

    def approve_batch_row(self, actor: User, batch_id: str, row_number: int) -> None:
        """The review grid's one click: approve the row's front, then its four views."""
        batches.approve_row(self, actor, batch_id, row_number)

    def costs_by_approval(self, actor: User, approval_ids: list[str]
                          ) -> dict[str, tuple[int, float]]:
        """Per product: credits charged (net) and the providers' estimated cost."""
        return batches.costs(self, actor, approval_ids)

    def claim_batch_row(self, batch_id: str, row_number: int) -> str | None:
        return batches.claim_row(self, batch_id, row_number)

    def batch_row_next(self, actor_id: str, approval_id: str, auto_approve: bool,
                       views_tried: bool) -> dict[str, Any]:
        return batches.row_next(self, actor_id, approval_id, auto_approve, views_tried)

    # ------------------------------------------------------------------ operations
    def queue_overview(self, actor: User) -> dict[str, Any]:
        """For the admin's queue panel: queues, executors, batches per user, failures."""
        if not actor.is_admin:
            raise errors.PermissionDenied("Only admins can see the queues.")
        from sqlalchemy import func, select

        from viewgen.store import schema as t

        with self.repo.tx(actor) as tx:
            workers = [dict(r._mapping) for r in tx.conn.execute(
                select(t.workers).order_by(t.workers.c.heartbeat_at.desc()))]
            b, u = t.batches, t.users
            per_user = [dict(r._mapping) for r in tx.conn.execute(
                select(u.c.email.label("user"), func.count(b.c.id).label("batches"),
                       func.sum(b.c.total).label("rows"))
                .join(u, u.c.id == b.c.user_id).group_by(u.c.email)
                .order_by(func.count(b.c.id).desc()))]
        alive_after = _now() - timedelta(seconds=self.settings.worker_dead_after_s)
        for w in workers:
            beat = w["heartbeat_at"]
            beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
            w["alive"] = beat > alive_after and not w["recovered_by"]
        return {"queues": durable.queue_rows(), "workers": workers,
                "batches_per_user": per_user, "failed": durable.failed_workflows()}

    def retry_workflow(self, actor: User, workflow_id: str) -> None:
        if not actor.is_admin:
            raise errors.PermissionDenied("Only admins can retry workflows.")
        durable.retry(workflow_id)

    # ------------------------------------------------------------------ recovery
    def reconcile(self, older_than_s: float | None = None) -> list[str]:
        """Resume what can be resumed, fail and refund what cannot.

        First the pending workflows of executors whose heartbeat stopped are taken over
        (they resume from their last completed step). Then a product stuck generating
        whose workflow is gone, failed or cancelled is failed and refunded at once; one
        with no workflow at all (made before durable execution, or its start was lost)
        after ``older_than_s`` (default ``VIEWGEN_GENERATING_TIMEOUT_S``).
        """
        durable.take_over_dead(self, self.executor_id)
        timeout = self.settings.generating_timeout_s if older_than_s is None else older_than_s
        legacy_cutoff = _now() - timedelta(seconds=timeout)
        grace_cutoff = _now() - timedelta(seconds=min(timeout, 30.0))
        fixed: list[str] = []
        with self.repo.tx(SYSTEM, write=True) as tx:
            for approval in tx.stuck_approvals(_now()):
                updated = approval.updated_at or _now()
                state = durable.status(approval.workflow_id) if approval.workflow_id else None
                if state in ("ENQUEUED", "PENDING", "DELAYED"):
                    continue  # running, queued, or resumed by a live executor
                if state is None and updated > (legacy_cutoff if not approval.workflow_id
                                                 else grace_cutoff):
                    continue  # its start may still be on the way
                if state == "SUCCESS" and approval.status == S.VIEWS_GENERATING:
                    pass  # finished without settling: fail and refund below
                for reservation in credits.open_reservations(tx, approval.id):
                    credits.refund(tx, reservation)
                tx.transition(
                    approval.id, approval.status, S.FAILED, action="recover",
                    error="Generation was interrupted; any credits it held were refunded. "
                          "Retry to continue.",
                )
                fixed.append(approval.id)
        if fixed:
            log.info("reconciled %d interrupted generation(s)", len(fixed))
        return fixed

    def close(self, *, drain_s: float = 0.0) -> None:
        """Stop this process's executor; ``drain_s``: let running work finish first."""
        if durable.current_studio() is self:
            durable.shutdown(drain_s=drain_s)

    # ------------------------------------------------------------------ helpers
    def user(self, user_id: str) -> User:
        with self.repo.tx(SYSTEM) as tx:
            return tx.get_user(user_id)

    @property
    def _size(self) -> tuple[int, int]:
        return (self.settings.image_size, self.settings.image_size)

    def _owned_blob(self, approval: Approval, key: str | None) -> bytes | None:
        """Read a blob the approval points at, only if it is the approval owner's."""
        if not key:
            return None
        if not validation.key_belongs_to(key, approval.user_id):
            raise NotFound("This product points at an image that is not its owner's; "
                           "it was not read and nothing was sent to a provider.")
        return self.blobs.get(key)

    def _next_key(self, tx: Tx, approval: Approval, view: ViewType) -> str:
        used = [approval.key(view) or ""]
        used += [h.image_key for h in tx.list_history(approval.id) if h.view_type == view]
        numbers = [0]
        for key in used:
            stem = key.rsplit("/", 1)[-1].split(".")[0]
            _, _, n = stem.rpartition("-")
            if n.isdigit():
                numbers.append(int(n))
        return image_key(approval.user_id, approval.id, view.value, max(numbers) + 1)

    def _generate_checked(self, request: GenerationRequest, check: Callable[[bytes], Any]
                          ) -> tuple[list[_Attempt], ProviderError | None, float]:
        """Call the provider; while the QA gate fails the image, draw it again (up to
        ``qa_retries`` more times, with another seed). Returns every attempt that gave an
        image, and the error of the call that gave none (if any)."""
        attempts: list[_Attempt] = []
        for n in range(1 + max(0, self.settings.qa_retries)):
            attempt_request = request if n == 0 else replace(
                request, seed=(request.seed + 7919 * n) % (2**31 - 1))
            result, error, latency = self._call_generator(attempt_request)
            if error is not None or result is None:
                return attempts, error, latency
            try:
                verdict = check(result.data)
            except Exception:  # the gate is advisory: never lose an image to it
                log.exception("QA gate failed on a %s view", request.view.value)
                verdict = None
            attempts.append(_Attempt(result, latency, verdict))
            if verdict is None or verdict.passed:
                break
        return attempts, None, 0.0

    def _record_attempts(self, tx: Tx, approval: Approval, view: ViewType,
                         attempts: list[_Attempt], kept: _Attempt,
                         error: ProviderError | None, step_key: str, *, charged: bool) -> None:
        """Every call of the step: the kept image's (charged unless refunded), the QA
        gate's automatic attempts (recorded with their cost, never charged), and a
        failed last attempt."""
        for attempt in attempts:
            if attempt is kept:
                continue
            self._record_call(tx, approval, view, "image", attempt.result, attempt.latency,
                              charged=False, qa=attempt.qa)
        if error is not None:
            self._record_call(tx, approval, view, "image", None, 0.0, error=error,
                              charged=False)
        self._record_call(tx, approval, view, "image", kept.result, kept.latency,
                          step_key=step_key, charged=charged, qa=kept.qa)

    def _rejected_front(self, actor: User, approval: Approval) -> bytes | None:
        """The last rejected front (what an edit retry changes), if it is the owner's."""
        rejected = [h for h in self.repo.list_history(actor, approval.id)
                    if h.view_type == ViewType.FRONT and h.reason == "rejected"]
        return self._owned_blob(approval, rejected[-1].image_key) if rejected else None

    def _front_change(self, actor: User, approval: Approval, new: bytes) -> Any:
        """A new front after a rejection against the rejected one: unchanged is refunded."""
        if not approval.rejection_count:
            return None
        from viewgen import quality

        rejected = [h for h in self.repo.list_history(actor, approval.id)
                    if h.view_type == ViewType.FRONT and h.reason == "rejected"]
        if not rejected:
            return None
        try:
            old = self.blobs.get(rejected[-1].image_key)
            return quality.check_change(old, new, rejected[-1].user_feedback,
                                        view=ViewType.FRONT)
        except Exception:
            log.exception("could not compare the new front with the rejected one")
            return None

    def _call_generator(
        self, request: GenerationRequest
    ) -> tuple[GeneratedImage | None, ProviderError | None, float]:
        started = time.perf_counter()
        try:
            result = self.generator.generate(request)
        except Exception as exc:
            return None, self._as_provider_error(exc, self.generator.name), (
                time.perf_counter() - started) * 1000
        return result, None, (time.perf_counter() - started) * 1000

    @staticmethod
    def _as_provider_error(exc: Exception, provider: str) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, ViewgenError):
            return ProviderError(exc.user_message, provider=provider, retryable=False)
        log.exception("unexpected error from provider %s", provider)
        return ProviderError(
            "The image service failed unexpectedly; nothing was charged. Try again.",
            provider=provider, detail=repr(exc),
        )

    def _record_call(self, tx: Tx, approval: Approval, view: ViewType, kind: str,
                     result: GeneratedImage | None, latency: float, *,
                     error: ViewgenError | None = None, step_key: str | None = None,
                     charged: bool = True, qa: Any = None) -> None:
        usage = result.usage if result else None
        tx.insert_call(
            approval=approval, view=view, kind=kind,
            provider=usage.provider if usage else self.generator.name,
            model=usage.model if usage else getattr(self.generator, "model", self.generator.name),
            attempts=usage.attempts if usage else getattr(error, "attempts", 1),
            latency_ms=latency,
            outcome="ok" if error is None else type(error).__name__,
            error=error.user_message if error else None,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            images=usage.images if usage and error is None else 0,
            cost_usd=usage.cost_usd if usage else 0.0,
            step_key=step_key, charged=charged,
            qa_ok=None if qa is None else bool(qa.passed),
            qa_reasons=None if qa is None else list(qa.reasons),
        )
