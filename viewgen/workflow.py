"""The stepped workflow: front -> review -> four views in parallel -> complete -> revise.

``Studio`` is the one object pages and the CLI talk to. Each step validates its input
before writing anything, reserves credits before calling a provider, stores the image
as soon as it arrives, then commits the reservation and records the call in one
transaction; any failure refunds. The other four views run in a thread pool; each
worker stores and records its own view, so a view that lands is kept even if the page
that asked for it goes away, and a view that fails does not sink the others. The
caller iterates outcomes as they complete (``as_completed``) in its own thread, which
is where a Streamlit page may draw; workers never touch Streamlit.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from viewgen import credits, prompts, states
from viewgen.blobs import BlobStore, build_blob_store, image_key
from viewgen.domain import (
    ALL_VIEWS,
    OTHER_VIEWS,
    Approval,
    ExtractedFeatures,
    GeneratedImage,
    GenerationRequest,
    InputType,
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
from viewgen.providers import FeatureExtractor, ImageGenerator, build_extractor, build_generator
from viewgen.settings import Settings
from viewgen.store import SYSTEM, Repository, Tx, open_repository

log = logging.getLogger(__name__)

S = Status


@dataclass
class ViewOutcome:
    """One view of a batch, as it landed (or failed)."""

    view: ViewType
    ok: bool
    key: str | None = None
    error: str | None = None
    latency_ms: float = 0.0


@dataclass
class ViewBatch:
    """A running batch of views: iterate it for outcomes, then read ``approval``."""

    approval_id: str
    views: tuple[ViewType, ...]
    futures: dict[Future[ViewOutcome], ViewType]
    finished: Future[Approval]
    outcomes: list[ViewOutcome] = field(default_factory=list)

    def __iter__(self) -> Iterator[ViewOutcome]:
        for future in as_completed(self.futures):
            outcome = future.result()
            self.outcomes.append(outcome)
            yield outcome

    def wait(self, timeout: float | None = None) -> Approval:
        """Wait for the batch and return the approval as it stands when the batch ends."""
        return self.finished.result(timeout=timeout)

    @property
    def approval(self) -> Approval:
        return self.finished.result()


def _now() -> datetime:
    return datetime.now(UTC)


class Studio:
    """Services and the workflow over them. Build it once per process."""

    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        blobs: BlobStore,
        generator: ImageGenerator,
        extractor: FeatureExtractor,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.blobs = blobs
        self.generator = generator
        self.extractor = extractor
        self.prices = credits.Prices.from_settings(settings)
        workers = max(1, settings.view_workers)
        self._views_pool = ThreadPoolExecutor(workers, thread_name_prefix="viewgen-view")
        self._finish_pool = ThreadPoolExecutor(2, thread_name_prefix="viewgen-finish")
        self._analysis_pool = ThreadPoolExecutor(1, thread_name_prefix="viewgen-analysis")
        self._analysis: dict[str, list[Future[None]]] = {}
        self._analysis_lock = threading.Lock()

    # ------------------------------------------------------------------ input checks
    def clean_text(self, text: str | None, *, what: str = "description",
                   required: bool = False) -> str | None:
        value = (text or "").strip()
        if not value:
            if required:
                raise InvalidInput(f"The {what} is empty: write a few words first.")
            return None
        if len(value) > self.settings.max_text_chars:
            raise InvalidInput(
                f"The {what} is {len(value):,} characters long; the limit is "
                f"{self.settings.max_text_chars:,}. Shorten it and try again."
            )
        return value

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
            for v in ALL_VIEWS
            if (key := approval.key(v))
        }

    def history(self, actor: User, approval_id: str):
        return self.repo.list_history(actor, approval_id)

    def revisions(self, actor: User, approval_id: str) -> list[Revision]:
        with self.repo.tx(actor) as tx:
            return tx.revisions_for(approval_id)

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
    ) -> Approval:
        """Create a product and generate its front view (charged at the front price).

        Returns the approval in ``front_review``; raises a ``ViewgenError`` with nothing
        charged if the input is bad, credits are short or the provider fails.
        """
        text = self.clean_text(text)
        reference = self.clean_image(image, what="reference photo")
        logo_png = self.clean_image(logo, what="logo")
        if text is None and reference is None:
            raise InvalidInput("Describe the product or upload a reference photo to start.")
        name = (project_name or text or "Product from a photo").strip().splitlines()[0][:80]
        seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31 - 1)

        from viewgen.store.repository import new_id

        approval_id = new_id()
        stored: list[str] = []
        try:
            ref_key = logo_key = None
            if reference is not None:
                ref_key = image_key(actor.id, approval_id, "reference", 1)
                self.blobs.put(ref_key, reference)
                stored.append(ref_key)
            if logo_png is not None:
                logo_key = image_key(actor.id, approval_id, "logo", 1)
                self.blobs.put(logo_key, logo_png)
                stored.append(logo_key)
            with self.repo.tx(actor, write=True) as tx:
                project = tx.insert_project(name)
                tx.insert_approval(
                    approval_id=approval_id, project_id=project.id,
                    input_type=InputType.IMAGE if reference is not None else InputType.TEXT,
                    input_text=text, status=S.INPUT, seed=seed, session_id=session_id,
                )
                if ref_key or logo_key:
                    tx.update_approval(approval_id, reference_key=ref_key, logo_key=logo_key)
                reservation = credits.reserve(
                    tx, actor.id, self.prices.front, "front view", approval_id
                )
                tx.transition(approval_id, S.INPUT, S.FRONT_GENERATING, action="generate")
        except BaseException:
            for key in stored:
                self.blobs.delete(key)
            raise
        return self._generate_front(actor, approval_id, reservation)

    def retry_front(self, actor: User, approval_id: str) -> Approval:
        """Generate a new front after a rejection (retry price) or a failure."""
        with self.repo.tx(actor, write=True) as tx:
            approval = tx.get_approval(approval_id, for_update=True)
            if approval.status == S.FAILED and approval.extracted_features is not None:
                raise InvalidInput(
                    "The front of this product is already approved; retry the views instead."
                )
            states.check(approval.status, S.FRONT_GENERATING, action="generate a new front view")
            after_rejection = approval.rejection_count > 0
            price = self.prices.for_front(after_rejection=after_rejection)
            reason = "front retry after rejection" if after_rejection else "front view"
            reservation = credits.reserve(tx, approval.user_id, price, reason, approval_id)
            tx.transition(approval_id, approval.status, S.FRONT_GENERATING,
                          action="generate a new front view", error=None)
        return self._generate_front(actor, approval_id, reservation)

    def front_price(self, approval: Approval | None) -> int:
        return self.prices.for_front(after_rejection=bool(approval and approval.rejection_count))

    def _generate_front(self, actor: User, approval_id: str, reservation: int) -> Approval:
        approval = self.repo.get_approval(actor, approval_id)
        try:
            reference = self.blobs.get(approval.reference_key) if approval.reference_key else None
            logo = self.blobs.get(approval.logo_key) if approval.logo_key else None
            prompt = prompts.front_prompt(
                approval.input_text, has_reference=reference is not None,
                has_logo=logo is not None, feedback=approval.feedback_history,
            )
            request = GenerationRequest(
                view=ViewType.FRONT, prompt=prompt, text=approval.input_text,
                reference=reference, logo=logo, feedback=tuple(approval.feedback_history),
                seed=approval.seed, size=self._size,
            )
        except ViewgenError as exc:
            self._fail_front(actor, approval, reservation, exc, None, 0.0)
            raise
        result, error, latency = self._call_generator(request)
        if error is not None:
            self._fail_front(actor, approval, reservation, error, None, latency)
            raise error
        assert result is not None
        key = None
        try:
            with self.repo.tx(actor, write=True) as tx:
                current = tx.get_approval(approval_id, for_update=True)
                key = self._next_key(tx, current, ViewType.FRONT)
                self.blobs.put(key, result.data, result.mime_type)
                tx.set_view(approval_id, ViewType.FRONT, key, prompt)
                tx.transition(approval_id, S.FRONT_GENERATING, S.FRONT_REVIEW,
                              action="show the new front view", error=None)
                credits.commit(tx, reservation)
                self._record_call(tx, current, ViewType.FRONT, "image", result, latency)
        except BaseException as exc:
            if key:
                self.blobs.delete(key)
            err = exc if isinstance(exc, ViewgenError) else ProviderError(
                "Could not save the new front view.", detail=repr(exc))
            self._fail_front(actor, approval, reservation, err, result, latency)
            raise
        return self.repo.get_approval(actor, approval_id)

    def _fail_front(self, actor: User, approval: Approval, reservation: int,
                    error: ViewgenError, result: GeneratedImage | None, latency: float) -> None:
        with self.repo.tx(actor, write=True) as tx:
            credits.refund(tx, reservation)
            current = tx.get_approval(approval.id, for_update=True)
            if current.status == S.FRONT_GENERATING:
                tx.transition(approval.id, S.FRONT_GENERATING, S.FAILED,
                              error=error.user_message)
            self._record_call(tx, current, ViewType.FRONT, "image", result, latency, error=error)

    # ------------------------------------------------------------------ review
    def approve(self, actor: User, approval_id: str) -> Approval:
        """Approve the front: extract its features, then status ``approved``."""
        approval = self.repo.get_approval(actor, approval_id)
        states.check(approval.status, S.APPROVED, action="approve the front view")
        front_key = approval.key(ViewType.FRONT)
        if not front_key:
            raise InvalidInput("There is no front view to approve yet.")
        front = self.blobs.get(front_key)
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
                    outcome=type(error).__name__,
                    error=error.user_message,
                )
            raise error from exc
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
            )
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

    def reject_and_retry(self, actor: User, approval_id: str, feedback: str) -> Approval:
        self.reject(actor, approval_id, feedback)
        return self.retry_front(actor, approval_id)

    # ------------------------------------------------------------------ other views
    def start_views(
        self,
        actor: User,
        approval_id: str,
        views: Sequence[ViewType] | None = None,
        *,
        feedback: str | None = None,
    ) -> ViewBatch:
        """Reserve and start the views in parallel; iterate the batch for outcomes.

        With no ``views``: every view still missing (all four the first time). On a
        complete product, ``views`` with ``feedback`` regenerates them and writes a new
        numbered revision.
        """
        feedback_text = self.clean_text(feedback, what="feedback") if feedback else None
        with self.repo.tx(actor, write=True) as tx:
            approval = tx.get_approval(approval_id, for_update=True)
            if approval.extracted_features is None:
                raise InvalidInput("Approve the front view before generating the other views.")
            chosen = self._choose_views(approval, views)
            states.check(approval.status, S.VIEWS_GENERATING, action="generate views")
            reservations = {}
            try:
                for view in chosen:
                    reservations[view] = credits.reserve(
                        tx, approval.user_id, self.prices.view, f"{view.value} view", approval_id
                    )
            except InsufficientCredits as exc:
                total = self.prices.for_views(len(chosen))
                have = credits.balance(tx, approval.user_id) + self.prices.view * len(
                    reservations)
                raise InsufficientCredits(
                    f"{len(chosen)} view(s) cost {total} credits and you have {have}. "
                    "Ask an admin for more credits.", needed=total, balance=have,
                ) from exc
            tx.transition(
                approval_id, approval.status, S.VIEWS_GENERATING, action="generate views",
                error=None,
                view_errors={k: v for k, v in approval.view_errors.items()
                             if k not in {c.value for c in chosen}},
            )
            regenerating = approval.status == S.COMPLETE
        approval = self.repo.get_approval(actor, approval_id)
        front = self.blobs.get(approval.key(ViewType.FRONT) or "")
        logo = self.blobs.get(approval.logo_key) if approval.logo_key else None
        feedback_list = [*approval.feedback_history, *([feedback_text] if feedback_text else [])]
        futures: dict[Future[ViewOutcome], ViewType] = {}
        for view in chosen:
            future = self._views_pool.submit(
                self._view_job, actor, approval, view, reservations[view], front, logo,
                tuple(feedback_list), feedback_text,
            )
            futures[future] = view
        finished = self._finish_pool.submit(
            self._finish_batch, actor, approval_id, dict(futures), regenerating,
            feedback_text,
        )
        return ViewBatch(approval_id, tuple(chosen), futures, finished)

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

    def _choose_views(self, approval: Approval, views: Sequence[ViewType] | None) -> list[ViewType]:
        if views is None:
            chosen = approval.missing_views
            if not chosen:
                raise InvalidInput(
                    "All five views exist already: choose which views to regenerate."
                )
            return chosen
        chosen = []
        for view in views:
            view = ViewType(view)
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

    def _view_job(self, actor: User, approval: Approval, view: ViewType, reservation: int,
                  front: bytes, logo: bytes | None, feedback: tuple[str, ...],
                  new_feedback: str | None) -> ViewOutcome:
        features = approval.extracted_features or ExtractedFeatures()
        prompt = prompts.view_prompt(view, features, text=approval.input_text,
                                     has_logo=logo is not None, feedback=feedback)
        reference = None
        if approval.reference_key:
            try:
                reference = self.blobs.get(approval.reference_key)
            except ViewgenError:
                reference = None
        request = GenerationRequest(
            view=view, prompt=prompt, text=approval.input_text, reference=reference, logo=logo,
            front=front, features=features, feedback=feedback, seed=approval.seed,
            size=self._size,
        )
        result, error, latency = self._call_generator(request)
        if error is None:
            assert result is not None
            key = None
            try:
                with self.repo.tx(actor, write=True) as tx:
                    current = tx.get_approval(approval.id, for_update=True)
                    key = self._next_key(tx, current, view)
                    self.blobs.put(key, result.data, result.mime_type)
                    old_key = current.key(view)
                    if old_key:
                        tx.insert_history(current, view, old_key, current.prompt(view),
                                          new_feedback, "replaced")
                    tx.set_view(approval.id, view, key, prompt)
                    credits.commit(tx, reservation)
                    self._record_call(tx, current, view, "image", result, latency)
                return ViewOutcome(view, True, key=key, latency_ms=latency)
            except Exception as exc:  # storing failed: nothing points at the blob
                if key:
                    self.blobs.delete(key)
                error = exc if isinstance(exc, ViewgenError) else ProviderError(
                    f"Could not save the {view.value} view.", detail=repr(exc))
                log.warning("storing %s view failed: %r", view.value, exc)
        with self.repo.tx(actor, write=True) as tx:
            credits.refund(tx, reservation)
            current = tx.get_approval(approval.id)
            tx.merge_json(approval.id, "view_errors", {view.value: error.user_message})
            self._record_call(tx, current, view, "image", result, latency, error=error)
        return ViewOutcome(view, False, error=error.user_message, latency_ms=latency)

    def _finish_batch(self, actor: User, approval_id: str,
                      futures: dict[Future[ViewOutcome], ViewType], regenerating: bool,
                      feedback: str | None) -> Approval:
        wait(futures)
        outcomes = []
        for future, view in futures.items():
            try:
                outcomes.append(future.result())
            except Exception:  # a bug in a job; its view counts as failed
                log.exception("view job crashed")
                outcomes.append(ViewOutcome(view, False, error="The view failed unexpectedly."))
        landed = [o.view for o in outcomes if o.ok]
        failed = {o.view.value: o.error or "failed" for o in outcomes if not o.ok}
        with self.repo.tx(actor, write=True) as tx:
            approval = tx.get_approval(approval_id, for_update=True)
            for reservation in credits.open_reservations(tx, approval_id):
                credits.refund(tx, reservation)  # a crashed job's reservation
            if not approval.missing_views:
                values: dict[str, Any] = {}
                if approval.status == S.VIEWS_GENERATING:
                    tx.transition(approval_id, S.VIEWS_GENERATING, S.COMPLETE,
                                  action="complete the product", **values)
                first = not tx.revisions_for(approval_id)
                if first or landed:
                    self._write_revision(tx, approval, landed, failed, feedback, first,
                                         regenerating)
            elif approval.status == S.VIEWS_GENERATING:
                tx.transition(approval_id, S.VIEWS_GENERATING, S.APPROVED,
                              action="record the failed views",
                              error=f"{len(failed)} view(s) failed: retry them one by one.")
        if landed:
            self._schedule_analysis(actor, approval_id, landed)
        return self.repo.get_approval(actor, approval_id)

    def _write_revision(self, tx: Tx, approval: Approval, landed: list[ViewType],
                        failed: dict[str, str], feedback: str | None, first: bool,
                        regenerating: bool) -> Revision:
        current = tx.get_approval(approval.id)
        stamp = _now().isoformat()
        image_data = {
            v.value: {"key": current.key(v), "prompt_used": current.prompt(v),
                      "created_at": stamp}
            for v in ALL_VIEWS
        }
        if first and not regenerating:
            regenerated = [v.value for v in ALL_VIEWS]
            preserved: list[str] = []
            modifications = "; ".join(current.feedback_history) or None
        else:
            regenerated = [v.value for v in landed]
            preserved = [v.value for v in ALL_VIEWS if v not in landed]
            modifications = feedback
        changes = {"regenerated": regenerated, "preserved": preserved,
                   "modifications": modifications}
        if failed:
            changes["failed"] = failed
        return tx.insert_revision(current, user_prompt=feedback or current.input_text,
                                  image_data=image_data, changes_made=changes)

    # ------------------------------------------------------------------ consistency
    def _schedule_analysis(self, actor: User, approval_id: str, views: list[ViewType]) -> None:
        future = self._analysis_pool.submit(self._analyse, actor, approval_id, views)
        with self._analysis_lock:
            pending = [f for f in self._analysis.get(approval_id, []) if not f.done()]
            self._analysis[approval_id] = [*pending, future]

    def _analyse(self, actor: User, approval_id: str, views: list[ViewType]) -> None:
        from viewgen import consistency

        try:
            approval = self.repo.get_approval(actor, approval_id)
            features = approval.extracted_features
            front_key = approval.key(ViewType.FRONT)
            if features is None or not front_key:
                return
            images = {v: self.blobs.get(k) for v in OTHER_VIEWS if (k := approval.key(v))}
            front = self.blobs.get(front_key)
            scores = consistency.score_views(front, images, features)
            patch = {v.value: s.model_dump(mode="json") for v, s in scores.items()}
            with self.repo.tx(actor, write=True) as tx:
                tx.merge_json(approval_id, "consistency", patch)
        except Exception:  # analysis is advisory: never break the workflow
            log.exception("consistency analysis failed for %s", approval_id)

    def wait_for_analysis(self, approval_id: str, timeout: float | None = 30) -> None:
        with self._analysis_lock:
            pending = list(self._analysis.get(approval_id, []))
        wait(pending, timeout=timeout)

    # ------------------------------------------------------------------ one shot
    def generate_multi_view(
        self, actor: User, *, text: str | None = None, image: bytes | None = None,
        logo: bytes | None = None, auto_approve: bool = True, seed: int | None = None,
        on_view: Callable[[ViewOutcome], None] | None = None,
    ) -> Approval:
        """Front, approve, the four views: the whole flow without a review stop.

        With ``auto_approve=False`` it stops after the front, in ``front_review``.
        """
        approval = self.start_front(actor, text=text, image=image, logo=logo, seed=seed)
        if not auto_approve:
            return approval
        self.approve(actor, approval.id)
        batch = self.start_views(actor, approval.id)
        for outcome in batch:
            if on_view:
                on_view(outcome)
        final = batch.wait()
        self.wait_for_analysis(final.id)
        return self.repo.get_approval(actor, final.id)

    # ------------------------------------------------------------------ start-up
    def reconcile(self, older_than_s: float | None = None) -> list[str]:
        """Fail and refund rows stuck generating (a session died mid-generation)."""
        timeout = self.settings.generating_timeout_s if older_than_s is None else older_than_s
        cutoff = _now() - timedelta(seconds=timeout)
        fixed: list[str] = []
        with self.repo.tx(SYSTEM, write=True) as tx:
            for approval in tx.stuck_approvals(cutoff):
                for reservation in credits.open_reservations(tx, approval.id):
                    credits.refund(tx, reservation)
                tx.transition(
                    approval.id, approval.status, S.FAILED, action="recover",
                    error="Generation was interrupted (the session ended); any credits "
                          "it held were refunded. Retry to continue.",
                )
                fixed.append(approval.id)
        if fixed:
            log.info("reconciled %d interrupted generation(s)", len(fixed))
        return fixed

    def close(self) -> None:
        for pool in (self._views_pool, self._finish_pool, self._analysis_pool):
            pool.shutdown(wait=True)

    # ------------------------------------------------------------------ helpers
    @property
    def _size(self) -> tuple[int, int]:
        return (self.settings.image_size, self.settings.image_size)

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
                     error: ViewgenError | None = None) -> None:
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
        )


def build_studio(settings: Settings | None = None, *, reconcile: bool = True) -> Studio:
    """Everything from settings: database (migrated), blob store, providers."""
    settings = settings or Settings()
    repo = _open_repo(settings)
    studio = Studio(settings, repo, build_blob_store(settings), build_generator(settings),
                    build_extractor(settings))
    if reconcile:
        studio.reconcile()
    return studio


def _open_repo(settings: Settings) -> Repository:
    url = settings.resolved_database_url
    if url.startswith("postgresql"):
        try:
            from viewgen.store.postgres import open_postgres_repository
        except ImportError:
            return open_repository(url)
        return open_postgres_repository(url, settings)
    return open_repository(url)
