"""Demo data: ``python -m viewgen demo-data --approvals N`` seeds a realistic history.

It makes what the Admin page needs to be worth looking at, and what its benchmark
needs to be honest: users with a skewed spread of activity over weekdays and a
growing trend, products that were approved first time or after rejections (with the
feedback that was given), abandoned and failed ones, views that failed and were
retried, later regenerations with numbered revisions, the credit ledger that pays for
all of it (with top-up grants so no balance goes negative) and one provider call row
per call with its latency, outcome and cost. Rows are written with SQLAlchemy's
executemany in one transaction, the Admin page's rollups rebuilt once at the end
(``rollups.bulk_load``) rather than row by row. A handful of small images are rendered
once and shared by every demo row, so thumbnails show real pictures. Demo accounts have
no password: they cannot sign in.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from viewgen import credits
from viewgen.dimensions import parse_dimensions
from viewgen.domain import ALL_VIEWS, OTHER_VIEWS, Role, Status, ViewType
from viewgen.settings import Settings
from viewgen.store import SYSTEM, Repository, rollups
from viewgen.store import schema as t

DEMO_DOMAIN = "demo.viewgen.example"
CHUNK = 5_000

PRODUCTS: list[dict[str, Any]] = [
    {"slug": "messenger", "text": "navy leather messenger bag with a tan strap",
     "shape": "bag", "colors": [("#1F2A44", "navy", "primary"), ("#C19A6B", "tan", "secondary"),
                                ("#B8B8B8", "silver", "accent")],
     "materials": ["leather", "brass"], "elements": ["flap", "shoulder strap", "buckles"],
     "dims": "38 x 28 x 10 cm"},
    {"slug": "bottle", "text": "matte black insulated water bottle with a bamboo lid",
     "shape": "bottle", "colors": [("#1B1B1B", "black", "primary"),
                                   ("#D8B07A", "bamboo", "secondary")],
     "materials": ["stainless steel", "bamboo"], "elements": ["screw lid", "carry loop"],
     "dims": "7 x 7 x 26 cm"},
    {"slug": "runner", "text": "white running shoe with a coral sole",
     "shape": "shoe", "colors": [("#F4F4F2", "white", "primary"), ("#FF6F61", "coral", "secondary"),
                                 ("#2B2B2B", "charcoal", "accent")],
     "materials": ["mesh", "rubber"], "elements": ["laces", "heel tab", "sole"],
     "dims": "30 x 11 x 12 cm"},
    {"slug": "lamp", "text": "sage green ceramic desk lamp with a brass switch",
     "shape": "lamp", "colors": [("#9CAF88", "sage green", "primary"),
                                 ("#B5A642", "brass", "accent")],
     "materials": ["ceramic", "brass"], "elements": ["shade", "round base", "switch"],
     "dims": "22 x 22 x 40 cm"},
    {"slug": "headphones", "text": "red wireless headphones with silver accents",
     "shape": "headphones", "colors": [("#C0262D", "red", "primary"),
                                       ("#C8C8C8", "silver", "accent")],
     "materials": ["plastic", "aluminium", "foam"], "elements": ["headband", "ear cups"],
     "dims": "18 x 8 x 20 cm"},
    {"slug": "speaker", "text": "walnut bluetooth speaker with a grey fabric grille",
     "shape": "box", "colors": [("#5C4033", "walnut", "primary"), ("#8A8D91", "grey", "secondary")],
     "materials": ["walnut wood", "fabric"], "elements": ["grille", "volume dial"],
     "dims": "25 x 12 x 14 cm"},
    {"slug": "backpack", "text": "yellow children's backpack with reflective stripes",
     "shape": "bag", "colors": [("#F2C230", "yellow", "primary"), ("#DADADA", "silver", "accent"),
                                ("#2E4057", "slate", "secondary")],
     "materials": ["nylon", "reflective tape"], "elements": ["zip pocket", "straps"],
     "dims": "30 x 24 x 12 cm"},
    {"slug": "beanie", "text": "charcoal wool beanie with an orange logo patch",
     "shape": "beanie", "colors": [("#36454F", "charcoal", "primary"),
                                   ("#F28C28", "orange", "accent")],
     "materials": ["wool"], "elements": ["cuff", "logo patch"], "dims": "22 x 20 cm"},
]

REJECTIONS = [
    "make the strap red", "less glossy, more matte", "the logo is too big",
    "show the handle on the left", "use a warmer colour", "make it slimmer",
    "remove the pattern", "add a visible zip", "rounder corners please",
    "the colour is too dark", "centre the product", "add stitching detail",
]
REGENERATIONS = [
    "match the front's colour more closely", "the lid detail is missing",
    "straighten the perspective", "the strap should continue round the back",
    "show the sole pattern", "less shadow", "keep the logo position consistent",
]
NAMES = [
    "Ana Ortiz", "Ben Carter", "Chloé Martin", "Dev Patel", "Eva Novak", "Felix Wong",
    "Grace Kim", "Hugo Silva", "Iris Berg", "Jonas Weber", "Kemi Adeyemi", "Lena Fischer",
    "Mateo Rossi", "Nora Haddad", "Omar Aziz", "Priya Shah", "Quinn Lee", "Rosa Diaz",
    "Sam Okafor", "Tara Nolan", "Umar Khan", "Vera Sokolova", "Will Turner", "Xin Liu",
    "Yara Costa", "Zoe Evans",
]


@dataclass(frozen=True)
class Provider:
    image: str
    image_model: str
    features: str
    features_model: str
    image_median_ms: float
    features_median_ms: float
    failure_rate: float
    image_cost: float
    features_cost: float


OFFLINE = Provider("offline", "offline-renderer", "offline", "pixel-measure", 180, 45, 0.006,
                   0.0, 0.0)
HOSTED = Provider("gemini", "gemini-2.5-flash-image", "openai", "gpt-4o-mini", 5_500, 1_800,
                  0.045, 0.039, 0.0004)

FAILURES = [
    ("QuotaExhausted", "The image service's quota is used up for now; try again in a minute."),
    ("ProviderTimeout", "The image service did not answer in time; nothing was charged."),
    ("ProviderUnavailable", "The image service is busy; try again."),
    ("SafetyBlocked", "The image service declined this request for safety reasons."),
]


@dataclass
class Seeded:
    users: int = 0
    approvals: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------------- images


def _demo_key(slug: str, name: str) -> str:
    return f"demo/{slug}/{name}-1.png"


def _draw(product: dict[str, Any], view: ViewType, size: int = 256) -> bytes:
    """A small flat drawing of a demo product from one side (no provider needed)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), (242, 242, 240))
    d = ImageDraw.Draw(img)
    main = product["colors"][0][0]
    second = product["colors"][1][0] if len(product["colors"]) > 1 else "#888888"
    s = size
    shape = product["shape"]
    wide = {ViewType.SIDE: 0.45, ViewType.TOP: 0.8, ViewType.BOTTOM: 0.8}.get(view, 0.7)
    x0, x1 = s * (0.5 - wide / 2), s * (0.5 + wide / 2)
    if shape == "bottle":
        if view in (ViewType.TOP, ViewType.BOTTOM):
            d.ellipse([s * .3, s * .3, s * .7, s * .7], fill=main)
            d.ellipse([s * .4, s * .4, s * .6, s * .6], fill=second if view == ViewType.TOP
                      else main, outline="#00000033")
        else:
            d.rounded_rectangle([s * .38, s * .28, s * .62, s * .88], radius=s * .06, fill=main)
            d.rectangle([s * .4, s * .16, s * .6, s * .28], fill=second)
    elif shape in ("lamp",):
        d.ellipse([s * .3, s * .78, s * .7, s * .9], fill=main)
        d.rectangle([s * .47, s * .4, s * .53, s * .82], fill=second)
        d.polygon([(s * .28, s * .42), (s * .72, s * .42), (s * .62, s * .14), (s * .38, s * .14)],
                  fill=main)
    elif shape == "headphones":
        d.arc([s * .22, s * .12, s * .78, s * .7], 180, 360, fill=main, width=int(s * .06))
        d.rounded_rectangle([s * .18, s * .4, s * .32, s * .7], radius=s * .05, fill=main)
        d.rounded_rectangle([s * .68, s * .4, s * .82, s * .7], radius=s * .05, fill=main)
        d.rectangle([s * .2, s * .5, s * .3, s * .54], fill=second)
    elif shape == "shoe":
        d.rounded_rectangle([x0, s * .45, x1, s * .7], radius=s * .08, fill=main)
        d.rectangle([x0, s * .66, x1, s * .74], fill=second)
    elif shape == "beanie":
        d.pieslice([s * .2, s * .2, s * .8, s * .95], 180, 360, fill=main)
        d.rectangle([s * .2, s * .56, s * .8, s * .72], fill=main, outline="#00000022")
        if view == ViewType.FRONT:
            d.rectangle([s * .44, s * .6, s * .56, s * .68], fill=second)
    else:  # bag, box
        top = s * (0.3 if view not in (ViewType.TOP, ViewType.BOTTOM) else 0.35)
        bottom = s * (0.8 if view not in (ViewType.TOP, ViewType.BOTTOM) else 0.65)
        d.rounded_rectangle([x0, top, x1, bottom], radius=s * .05, fill=main)
        if view in (ViewType.FRONT, ViewType.BACK):
            d.rectangle([x0, top, x1, top + (bottom - top) * .35], fill=second)
        if shape == "bag" and view != ViewType.BOTTOM:
            d.arc([x0 + s * .08, s * .1, x1 - s * .08, top + s * .1], 180, 360, fill=second,
                  width=int(s * .03))
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _rejected_variant(png: bytes) -> bytes:
    """The same picture with its colours rotated: what a rejected front looked like."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        red, green, blue = img.convert("RGB").split()
        out = Image.merge("RGB", (blue, red, green))
        buf = io.BytesIO()
        out.save(buf, "PNG", optimize=True)
        return buf.getvalue()


def _render(product: dict[str, Any], view: ViewType) -> bytes:
    """The offline renderer's picture when it is available, else a flat drawing."""
    try:
        from viewgen.domain import GenerationRequest
        from viewgen.providers.offline import OfflineGenerator

        request = GenerationRequest(view=view, prompt=product["text"], text=product["text"],
                                    seed=sum(map(ord, product["slug"])), size=(256, 256))
        return OfflineGenerator().generate(request).data
    except Exception:  # the renderer is optional here: a drawing will do
        return _draw(product, view)


def ensure_demo_images(blobs) -> None:
    """Store the shared demo images once (skipped when already there)."""
    for product in PRODUCTS:
        front = None
        for view in ALL_VIEWS:
            key = _demo_key(product["slug"], view.value)
            if not blobs.exists(key):
                blobs.put(key, _render(product, view))
            if view == ViewType.FRONT:
                front = key
        rejected = _demo_key(product["slug"], "front-rejected")
        if front and not blobs.exists(rejected):
            blobs.put(rejected, _rejected_variant(blobs.get(front)))


def _features(product: dict[str, Any]) -> dict[str, Any]:
    shares = [0.62, 0.28, 0.1][: len(product["colors"])]
    return {
        "colors": [{"hex": hx, "name": name, "usage": usage, "share": share}
                   for (hx, name, usage), share in zip(product["colors"], shares, strict=False)],
        "materials": product["materials"],
        "keyElements": product["elements"],
        "estimatedDimensions": parse_dimensions(product["dims"]).model_dump(mode="json"),
        "description": product["text"].capitalize() + ".",
        "not_measured": [],
    }


# ---------------------------------------------------------------------- generation


class _Seeder:
    """Builds the rows in memory, then writes them in bulk."""

    def __init__(self, rng: random.Random, settings: Settings, end: datetime, days: int) -> None:
        self.rng = rng
        self.settings = settings
        self.end = end
        self.days = days
        self.start = end - timedelta(days=days)
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.spend: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        weights = []
        for d in range(days):
            day = self.start + timedelta(days=d)
            trend = 0.45 + 0.55 * (d + 1) / days
            weekday = 1.0 if day.weekday() < 5 else 0.35
            weights.append(trend * weekday)
        self.day_weights = weights
        self.hour_weights = [0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 1.0, 1.4, 1.5, 1.4,
                             1.0, 1.3, 1.5, 1.5, 1.3, 1.0, 0.7, 0.5, 0.4, 0.3, 0.2, 0.15]

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def when(self) -> datetime:
        day = self.rng.choices(range(self.days), weights=self.day_weights)[0]
        hour = self.rng.choices(range(24), weights=self.hour_weights)[0]
        moment = self.start + timedelta(days=day, hours=hour, seconds=self.rng.random() * 3600)
        return min(moment, self.end - timedelta(minutes=30))

    def latency(self, median: float) -> float:
        return round(median * math.exp(self.rng.gauss(0, 0.45)), 1)

    # -- rows ----------------------------------------------------------------------
    def call(self, at: datetime, user_id: str, approval_id: str, view: str, kind: str,
             provider: Provider, failed: tuple[str, str] | None = None) -> datetime:
        image = kind == "image"
        latency = self.latency(provider.image_median_ms if image else provider.features_median_ms)
        if failed and failed[0] == "ProviderTimeout":
            latency = self.settings.provider_timeout_s * 1000
        self.rows["calls"].append({
            "approval_id": approval_id, "user_id": user_id, "view_type": view, "kind": kind,
            "provider": provider.image if image else provider.features,
            "model": provider.image_model if image else provider.features_model,
            "attempts": 1 if not failed else self.rng.choice([1, 2, 4]),
            "latency_ms": latency, "outcome": failed[0] if failed else "ok",
            "error": failed[1] if failed else None,
            "input_tokens": None if image or provider.features == "offline" else 1100,
            "output_tokens": None if image or provider.features == "offline" else 180,
            "images": 1 if image and not failed else 0,
            "cost_usd": 0.0 if failed else (provider.image_cost if image
                                            else provider.features_cost),
            "created_at": at,
        })
        return at + timedelta(milliseconds=latency)

    def ledger(self, at: datetime, user_id: str, approval_id: str | None, delta: int,
               reason: str, state: str) -> None:
        if delta == 0:
            return  # a free step writes no ledger row, as credits.reserve does
        self.rows["ledger"].append({
            "user_id": user_id, "delta": delta, "reason": reason, "approval_id": approval_id,
            "state": state, "created_at": at, "updated_at": at,
        })
        if state == "committed":
            self.spend[user_id].append((at, -delta))

    def failure(self, provider: Provider) -> tuple[str, str] | None:
        if self.rng.random() >= provider.failure_rate:
            return None
        if provider.image == "offline":
            return FAILURES[2]
        return self.rng.choices(FAILURES, weights=[4, 2, 3, 1])[0]

    def generate(self, at: datetime, user_id: str, approval_id: str, view: str,
                 provider: Provider, price: int, reason: str,
                 force_fail: bool = False) -> tuple[datetime, bool]:
        """One charged image call: commit on success, refund on failure."""
        failed = self.failure(provider) or (FAILURES[2] if force_fail else None)
        done = self.call(at, user_id, approval_id, view, "image", provider, failed)
        self.ledger(done, user_id, approval_id, -price, reason,
                    "refunded" if failed else "committed")
        return done, failed is None

    def approval(self, user_id: str, created: datetime) -> None:
        rng = self.rng
        product = rng.choice(PRODUCTS)
        provider = HOSTED if rng.random() < 0.45 else OFFLINE
        aid, pid = self.uuid(), self.uuid()
        slug = product["slug"]
        image_input = rng.random() < 0.22
        text = product["text"] if not image_input or rng.random() < 0.5 else None
        rejections = rng.choices([0, 1, 2, 3, 4], weights=[58, 25, 11, 4, 2])[0]
        fate = rng.choices(["complete", "review", "revision", "failed", "partial"],
                           weights=[84, 6, 3, 3, 4])[0]
        if fate == "revision":
            rejections = max(1, rejections)
        row: dict[str, Any] = {
            "id": aid, "user_id": user_id, "project_id": pid, "session_id": None,
            "input_type": "image" if image_input else "text", "input_text": text,
            "reference_key": _demo_key(slug, "front") if image_input else None,
            "logo_key": None, "extracted_features": None, "user_feedback": None,
            "feedback_history": [], "rejection_count": 0, "error": None, "view_errors": {},
            "consistency": {}, "seed": rng.randrange(1, 2**31 - 1), "created_at": created,
            "approved_at": None, "completed_at": None,
        }
        for view in ALL_VIEWS:
            row[f"{view.value}_key"] = None
            row[f"{view.value}_prompt"] = None
        name = (text or "Product from a photo")[:80]
        self.rows["projects"].append({"id": pid, "user_id": user_id, "name": name,
                                      "created_at": created, "updated_at": created})
        at = created + timedelta(seconds=rng.uniform(1, 5))
        prompt = f"Front view of {product['text']}, studio lighting, plain background"
        feedback: list[str] = []

        # the front, its rejections and any provider failures on the way
        attempts = rejections + 1 if fate != "revision" else rejections
        for attempt in range(attempts):
            price = self.settings.price_retry if attempt else self.settings.price_front
            reason = "front retry after rejection" if attempt else "front view"
            last = attempt == attempts - 1
            ok = False
            while not ok:
                at, ok = self.generate(at, user_id, aid, "front", provider, price, reason,
                                       force_fail=last and fate == "failed")
                if not ok and (fate == "failed" and last):
                    break
                at += timedelta(seconds=rng.uniform(5, 60))
            if not ok:
                row.update(status=Status.FAILED.value,
                           error="The image service is busy; try again.")
                break
            if attempt < rejections:
                note = rng.choice(REJECTIONS)
                feedback.append(note)
                at += timedelta(seconds=rng.uniform(20, 600))
                self.rows["history"].append({
                    "approval_id": aid, "user_id": user_id, "view_type": "front",
                    "image_key": _demo_key(slug, "front-rejected"), "prompt": prompt,
                    "user_feedback": note, "reason": "rejected", "created_at": at,
                })
        row.update(feedback_history=feedback, rejection_count=len(feedback),
                   user_feedback=feedback[-1] if feedback else None)
        if fate == "failed":
            row["updated_at"] = at
            self.rows["approvals"].append(row)
            return
        if fate == "revision":
            row.update(status=Status.REVISION_REQUESTED.value, updated_at=at)
            self.rows["approvals"].append(row)
            return
        row["front_key"], row["front_prompt"] = _demo_key(slug, "front"), prompt
        if fate == "review":
            row.update(status=Status.FRONT_REVIEW.value, updated_at=at)
            self.rows["approvals"].append(row)
            return

        # approval: features from the front
        at += timedelta(seconds=rng.uniform(10, 300))
        at = self.call(at, user_id, aid, "front", "features", provider)
        row.update(extracted_features=_features(product), approved_at=at)

        # the other four views in parallel; failures are retried unless the product stalled
        batch_end = at
        missing: dict[str, str] = {}
        stalled = rng.sample(OTHER_VIEWS, rng.choice([1, 1, 2])) if fate == "partial" else []
        for view in OTHER_VIEWS:
            t0 = at + timedelta(milliseconds=rng.uniform(0, 200))
            done, ok = self.generate(t0, user_id, aid, view.value, provider,
                                     self.settings.price_view, f"{view.value} view",
                                     force_fail=view in stalled)
            if not ok and view not in stalled:
                done += timedelta(seconds=rng.uniform(20, 120))
                done, ok = self.generate(done, user_id, aid, view.value, provider,
                                         self.settings.price_view, f"{view.value} view")
            if ok:
                row[f"{view.value}_key"] = _demo_key(slug, view.value)
                row[f"{view.value}_prompt"] = f"{view.label} view of {product['text']}"
            else:
                missing[view.value] = "The image service is busy; try again."
            batch_end = max(batch_end, done)
        at = batch_end
        if missing:
            row.update(status=Status.APPROVED.value, view_errors=missing,
                       error=f"{len(missing)} view{'s' if len(missing) != 1 else ''} "
                             "failed: retry them one by one.",
                       updated_at=at)
            self.rows["approvals"].append(row)
            return

        row.update(status=Status.COMPLETE.value, completed_at=at,
                   consistency=self.consistency())
        self.revision(row, pid, at, 1, [v.value for v in ALL_VIEWS], [],
                      "; ".join(feedback) or None, text)
        number = 1
        for _ in range(rng.choices([0, 1, 2], weights=[85, 11, 4])[0]):
            at += timedelta(hours=rng.uniform(0.1, 72))
            if at >= self.end:
                break
            note = rng.choice(REGENERATIONS)
            chosen = rng.sample([v.value for v in OTHER_VIEWS], rng.choice([1, 1, 2]))
            for view in chosen:
                self.rows["history"].append({
                    "approval_id": aid, "user_id": user_id, "view_type": view,
                    "image_key": row[f"{view}_key"], "prompt": row[f"{view}_prompt"],
                    "user_feedback": note, "reason": "replaced", "created_at": at,
                })
                at, _ok = self.generate(at, user_id, aid, view, provider,
                                        self.settings.price_regenerate, f"{view} view")
            number += 1
            self.revision(row, pid, at, number, chosen,
                          [v.value for v in ALL_VIEWS if v.value not in chosen], note, note)
        row["updated_at"] = at
        self.rows["approvals"].append(row)

    def consistency(self) -> dict[str, Any]:
        out = {}
        for view in OTHER_VIEWS:
            score = max(35.0, min(99.0, self.rng.gauss(86, 8)))
            weak = score < 70
            out[view.value] = {
                "view": view.value, "score": round(score, 1),
                "palette": round(min(100.0, score + self.rng.uniform(-5, 8)), 1),
                "silhouette": round(min(100.0, score + self.rng.uniform(-8, 5)), 1),
                "note": ("The colours drift from the front; consider regenerating."
                         if weak else "Matches the front."),
            }
        return out

    def revision(self, row: dict[str, Any], pid: str, at: datetime, number: int,
                 regenerated: list[str], preserved: list[str], modifications: str | None,
                 prompt: str | None) -> None:
        self.rows["revisions"].append({
            "project_id": pid, "approval_id": row["id"], "user_id": row["user_id"],
            "revision_number": number, "user_prompt": prompt,
            "image_data": {v.value: {"key": row[f"{v.value}_key"],
                                     "prompt_used": row[f"{v.value}_prompt"],
                                     "created_at": at.isoformat()} for v in ALL_VIEWS},
            "changes_made": {"regenerated": regenerated, "preserved": preserved,
                             "modifications": modifications},
            "created_at": at,
        })

    def top_ups(self, users: dict[str, tuple[datetime, int, bool]], starting: int) -> None:
        """Starting grants for new accounts, and admin top-ups whenever a balance would go
        below zero, so the ledger stays consistent."""
        for user_id, (joined, balance, new) in users.items():
            if new and starting > 0:
                self.ledger(joined, user_id, None, starting, "starting credits", "granted")
                balance += starting
            for at, cost in sorted(self.spend.get(user_id, [])):
                if balance < cost:
                    amount = self.rng.choice([100, 200, 500])
                    self.ledger(at - timedelta(minutes=self.rng.uniform(1, 120)), user_id, None,
                                amount, "admin top-up", "granted")
                    balance += amount
                balance -= cost


def _insert(conn, table, rows: list[dict[str, Any]]) -> None:
    """SQLAlchemy's executemany, a chunk at a time (multi-row VALUES on PostgreSQL)."""
    for i in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), rows[i:i + CHUNK])


def seed(repo: Repository, settings: Settings, *, approvals: int, users: int = 25,
         days: int = 90, seed: int | None = None, blobs=None,
         now: datetime | None = None,
         progress: Callable[[str], None] | None = None) -> Seeded:
    """Add ``approvals`` demo products by ``users`` demo accounts over the last ``days``."""
    started = time.perf_counter()
    rng = random.Random(seed)
    end = now or datetime.now(UTC)
    days = max(1, days)
    users = max(1, min(users, approvals or 1, len(NAMES) * 40))
    say = progress or (lambda _msg: None)
    if blobs is not None:
        ensure_demo_images(blobs)

    seeder = _Seeder(rng, settings, end, days)
    with repo.tx(SYSTEM) as tx:
        existing = {row.email: row.id for row in tx.conn.execute(
            t.users.select().where(t.users.c.email.like(f"%@{DEMO_DOMAIN}")))}
    accounts: dict[str, datetime] = {}
    new_users = []
    for i in range(users):
        name = NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i // len(NAMES) + 1}")
        email = f"{name.lower().replace(' ', '.').replace('é', 'e')}@{DEMO_DOMAIN}"
        joined = seeder.start - timedelta(days=rng.uniform(0, 30))
        if email in existing:
            accounts[existing[email]] = joined
            continue
        uid = seeder.uuid()
        accounts[uid] = joined
        new_users.append({"id": uid, "email": email, "display_name": name,
                          "role": Role.MEMBER.value, "password_hash": None,
                          "created_at": joined, "updated_at": joined})
    ids = list(accounts)
    activity = [1 / (rank + 1) ** 0.9 for rank in range(len(ids))]
    say(f"Building {approvals:,} products for {len(ids)} users over {days} days ...")
    for _ in range(approvals):
        user_id = rng.choices(ids, weights=activity)[0]
        seeder.approval(user_id, seeder.when())
    new_ids = {row["id"] for row in new_users}
    with repo.tx(SYSTEM) as tx:
        balances = {uid: credits.balance(tx, uid) for uid in ids if uid not in new_ids}
    seeder.top_ups({uid: (accounts[uid], balances.get(uid, 0), uid in new_ids) for uid in ids},
                   settings.starting_credits)

    say("Writing rows ...")
    with repo.tx(SYSTEM, write=True) as tx:
        conn = tx.conn
        if conn.dialect.name == "sqlite":  # random-key indexes thrash the default 2 MB cache
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        with rollups.bulk_load(conn):  # one rebuild of the Admin rollups, not a row at a time
            _insert(conn, t.users, new_users)
            _insert(conn, t.projects, seeder.rows["projects"])
            _insert(conn, t.product_view_approvals, seeder.rows["approvals"])
            _insert(conn, t.view_revision_history, seeder.rows["history"])
            _insert(conn, t.revisions, seeder.rows["revisions"])
            _insert(conn, t.credit_ledger, seeder.rows["ledger"])
            _insert(conn, t.generation_calls, seeder.rows["calls"])
    return Seeded(
        users=len(new_users), approvals=approvals,
        rows={"projects": len(seeder.rows["projects"]),
              "approvals": len(seeder.rows["approvals"]),
              "revision history": len(seeder.rows["history"]),
              "revisions": len(seeder.rows["revisions"]),
              "ledger": len(seeder.rows["ledger"]), "calls": len(seeder.rows["calls"])},
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------- CLI


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    from viewgen.blobs import build_blob_store
    from viewgen.store import open_repository

    if args.approvals < 0 or args.users < 1 or args.days < 1:
        print("error: --approvals must be >= 0, --users and --days >= 1")
        return 2
    repo = open_repository(settings.resolved_database_url)
    result = seed(repo, settings, approvals=args.approvals, users=args.users, days=args.days,
                  seed=args.seed, blobs=build_blob_store(settings), progress=print)
    counts = ", ".join(f"{n:,} {what}" for what, n in result.rows.items())
    print(f"Seeded {result.approvals:,} products ({counts}) and {result.users} new demo "
          f"users in {result.seconds:.1f} s.")
    with repo.tx(SYSTEM) as tx:
        admins = [user for user in tx.list_users() if user.is_admin]
    if not admins:
        print("No admin account yet. Create one to open the Admin page:\n"
              "  python -m viewgen users add you@example.com --admin")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo-data", help="seed demo users, products, credits and provider calls",
        description="Seed a realistic spread of demo data for the Admin page "
                    "(demo accounts cannot sign in).",
    )
    demo.add_argument("--approvals", type=int, default=1000, help="products to add (1000)")
    demo.add_argument("--users", type=int, default=25, help="demo users (25)")
    demo.add_argument("--days", type=int, default=90, help="spread over the last N days (90)")
    demo.add_argument("--seed", type=int, default=None, help="random seed, for repeatable data")
    demo.set_defaults(func=cmd_demo_data)
