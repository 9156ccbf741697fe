"""``?wait=false``: 202 with a status URL at once, then the product's ``job`` moves on.

Every route that generates (front, approval, rejection, views, regeneration) starts its
durable workflow and answers 202; ``GET`` on the status URL reports the workflow's
``job``: running, then succeeded, partial or failed, a failure as ``{error, message}``
with the code the waiting call would have answered. Credits held for what failed are
refunded. Failing providers are doubles in this file, switched on per test.
"""

from __future__ import annotations

import time

import httpx
import pytest
from api_helpers import client, error_of, token_for

from viewgen.blobs import LocalBlobStore
from viewgen.domain import User, ViewType
from viewgen.errors import ProviderUnavailable
from viewgen.providers.offline import OfflineExtractor, OfflineGenerator
from viewgen.settings import Settings
from viewgen.store import Repository
from viewgen.workflow import Studio

TROUBLE = "The image service is having trouble right now; try again in a moment."


def _until(api: httpx.Client, url: str, done: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        product = api.get(url).json()
        if product["status"] in done:
            return product
        assert time.monotonic() < deadline, f"still {product['status']} after {timeout}s"
        time.sleep(0.05)


def _job_ends(api: httpx.Client, accepted: dict, timeout: float = 120) -> dict:
    """Poll the status URL until the job the 202 started is no longer running."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        product = api.get(accepted["statusUrl"]).json()
        job = product["job"]
        assert job is not None and job["workflowId"] == accepted["workflowId"], product
        seen.append(job["state"])
        if job["state"] != "running":
            product["seen"] = seen
            return product
        assert time.monotonic() < deadline, f"job still running after {timeout}s"
        time.sleep(0.05)


def _accepted(response: httpx.Response) -> dict:
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["statusUrl"].endswith(f"/api/products/{body['approvalId']}")
    assert response.headers["location"] == f"/api/products/{body['approvalId']}"
    assert body["workflowId"]
    return body


def _complete_product(api: httpx.Client) -> str:
    approval_id = api.post("/api/generate-front-view",
                           json={"text": "a green glass vase"}).json()["approvalId"]
    api.post("/api/approve-front-view", json={"approvalId": approval_id, "approved": True})
    return approval_id


def _credits(api: httpx.Client) -> int:
    return api.get("/api/me").json()["credits"]


# ---------------------------------------------------------------------- it works
def test_front_without_waiting_returns_202_then_reaches_review(alice_api) -> None:
    started = _accepted(alice_api.post("/api/generate-front-view", params={"wait": "false"},
                                       json={"text": "a white porcelain teapot",
                                             "sessionId": "s-1"}))
    assert started["sessionId"] == "s-1"
    product = _job_ends(alice_api, started)
    assert product["job"] == {"workflowId": started["workflowId"], "action": "front",
                              "state": "succeeded", "error": None, "views": {}}
    assert product["status"] == "front_review" and product["views"]["front"]["url"]


def test_approval_without_waiting_returns_202_then_is_approved(alice_api) -> None:
    approval_id = alice_api.post("/api/generate-front-view",
                                 json={"text": "a brass desk lamp"}).json()["approvalId"]
    started = _accepted(alice_api.post("/api/approve-front-view", params={"wait": "false"},
                                       json={"approvalId": approval_id, "approved": True}))
    product = _job_ends(alice_api, started)
    assert product["job"]["action"] == "approve" and product["job"]["state"] == "succeeded"
    assert product["status"] == "approved" and product["extractedFeatures"]


def test_views_without_waiting_return_202_and_land_in_the_background(alice_api) -> None:
    me = alice_api.get("/api/me").json()
    approval_id = _complete_product(alice_api)
    started = _accepted(alice_api.post("/api/generate-additional-views",
                                       params={"wait": "false"},
                                       json={"approvalId": approval_id}))
    assert started["status"] == "views_generating"
    product = _job_ends(alice_api, started)
    assert product["status"] == "complete"
    assert product["job"]["action"] == "views" and product["job"]["state"] == "succeeded"
    assert product["job"]["views"] == {v: {"state": "succeeded", "error": None}
                                       for v in ("back", "side", "top", "bottom")}
    assert all(product["views"][v]["url"] for v in ("back", "side", "top", "bottom"))
    assert me["credits"] - _credits(alice_api) == me["prices"]["product"]


def test_regenerate_without_waiting(alice_api) -> None:
    approval_id = _complete_product(alice_api)
    alice_api.post("/api/generate-additional-views", json={"approvalId": approval_id})
    before = alice_api.get(f"/api/products/{approval_id}").json()
    credits = _credits(alice_api)
    started = _accepted(alice_api.post(f"/api/products/{approval_id}/regenerate",
                                       params={"wait": "false"},
                                       json={"views": ["top"], "feedback": "make it red"}))
    assert started["status"] == "views_generating"
    assert started["workflowId"] != before["job"]["workflowId"]
    product = _job_ends(alice_api, started)
    assert product["status"] == "complete" and product["job"]["state"] == "succeeded"
    assert product["job"]["views"] == {"top": {"state": "succeeded", "error": None}}
    assert len(product["revisions"]) == 2
    assert product["revisions"][-1]["changes"]["regenerated"] == ["top"]
    assert product["views"]["top"]["prompt"] != before["views"]["top"]["prompt"]
    price = alice_api.get("/api/me").json()["prices"]["regenerateView"]
    assert credits - _credits(alice_api) == price


def test_refusals_come_at_once_not_after_a_202(alice_api, bob_api) -> None:
    approval_id = alice_api.post("/api/generate-front-view",
                                 json={"text": "a tin robot"}).json()["approvalId"]
    # not approved yet: the views cannot start
    assert error_of(alice_api.post("/api/generate-additional-views", params={"wait": "false"},
                                   json={"approvalId": approval_id}))[0] == 400
    assert error_of(bob_api.post("/api/generate-additional-views", params={"wait": "false"},
                                 json={"approvalId": approval_id})) == (404, "not_found")
    # not complete: nothing to regenerate, whether or not the call waits
    for wait in ("false", "true"):
        assert error_of(alice_api.post(f"/api/products/{approval_id}/regenerate",
                                       params={"wait": wait},
                                       json={"views": ["top"], "feedback": "bluer"})) == (
            409, "wrong_state")
    assert error_of(bob_api.post(f"/api/products/{approval_id}/regenerate",
                                 params={"wait": "false"},
                                 json={"views": ["top"], "feedback": "x"})) == (404, "not_found")
    product = alice_api.get(f"/api/products/{approval_id}").json()
    assert product["status"] == "front_review" and product["job"]["action"] == "front"


# ---------------------------------------------------------------------- it fails
class SwitchableGenerator(OfflineGenerator):
    """The offline renderer, down for the views named in ``down`` (or all, with '*')."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[str] = set()

    def generate(self, request):
        if "*" in self.down or request.view.value in self.down:
            raise ProviderUnavailable(TROUBLE, provider="loopback-down")
        return super().generate(request)


class DownExtractor(OfflineExtractor):
    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def extract(self, image: bytes):
        if self.down:
            raise ProviderUnavailable("The vision service is down; approve again in a "
                                      "moment.", provider="loopback-down")
        return super().extract(image)


@pytest.fixture
def flaky(serve, settings: Settings, repo: Repository, alice: User):
    """A Studio whose views cost 1 credit each (so a refund shows), over switchable
    providers, served; yields (api client, generator, extractor)."""
    generator, extractor = SwitchableGenerator(), DownExtractor()
    priced = settings.model_copy(update={"price_view": 1})
    studio = Studio(priced, repo, LocalBlobStore(priced.blob_dir), generator, extractor)
    try:
        server = serve(studio)
        with client(server, token_for(repo, alice)) as api:
            yield api, generator, extractor
    finally:
        studio.close(drain_s=10)


def test_a_failed_front_shows_its_error_in_the_status_and_is_refunded(flaky) -> None:
    api, generator, _ = flaky
    generator.down = {"*"}
    before = _credits(api)
    started = _accepted(api.post("/api/generate-front-view", params={"wait": "false"},
                                 json={"text": "a copper saucepan"}))
    product = _job_ends(api, started)
    assert product["status"] == "failed"
    assert product["job"]["state"] == "failed"
    # the code the waiting call answers for the same failure (see test_api_errors: 503)
    assert product["job"]["error"] == {"error": "provider_unavailable", "message": TROUBLE}
    assert _credits(api) == before
    assert [a["action"] for a in product["nextActions"]] == ["retry-front"]


def test_a_failed_extraction_shows_its_error_and_the_front_stays_in_review(flaky) -> None:
    api, _, extractor = flaky
    approval_id = api.post("/api/generate-front-view",
                           json={"text": "a linen tote bag"}).json()["approvalId"]
    extractor.down = True
    before = _credits(api)
    started = _accepted(api.post("/api/approve-front-view", params={"wait": "false"},
                                 json={"approvalId": approval_id, "approved": True}))
    product = _job_ends(api, started)
    assert product["job"]["state"] == "failed"
    assert product["job"]["error"]["error"] == "provider_unavailable"
    assert "vision service is down" in product["job"]["error"]["message"]
    assert product["status"] == "front_review" and product["extractedFeatures"] is None
    assert _credits(api) == before
    # approving again works once the service is back, and the status says so
    extractor.down = False
    again = _accepted(api.post("/api/approve-front-view", params={"wait": "false"},
                               json={"approvalId": approval_id, "approved": True}))
    assert again["workflowId"] != started["workflowId"]
    assert _job_ends(api, again)["job"]["state"] == "succeeded"


def test_failed_views_show_their_errors_and_their_credits_come_back(flaky) -> None:
    api, generator, _ = flaky
    approval_id = _complete_product(api)
    before = _credits(api)
    generator.down = {"*"}
    started = _accepted(api.post("/api/generate-additional-views", params={"wait": "false"},
                                 json={"approvalId": approval_id}))
    product = _job_ends(api, started)
    job = product["job"]
    assert job["state"] == "failed"
    assert job["error"] == {"error": "provider_unavailable", "message": TROUBLE}
    assert set(job["views"]) == {"back", "side", "top", "bottom"}
    assert all(v == {"state": "failed", "error": {"error": "provider_unavailable",
                                                   "message": TROUBLE}}
               for v in job["views"].values())
    assert product["status"] == "approved"
    assert _credits(api) == before  # all four refunded


def test_some_views_failing_is_partial_and_only_those_are_refunded(flaky) -> None:
    api, generator, _ = flaky
    approval_id = _complete_product(api)
    before = _credits(api)
    generator.down = {ViewType.TOP.value}
    started = _accepted(api.post("/api/generate-additional-views", params={"wait": "false"},
                                 json={"approvalId": approval_id}))
    product = _job_ends(api, started)
    job = product["job"]
    assert job["state"] == "partial"
    assert job["error"]["error"] == "provider_unavailable" and TROUBLE in job["error"]["message"]
    assert job["views"]["top"]["state"] == "failed"
    assert {v: job["views"][v]["state"] for v in ("back", "side", "bottom")} == {
        "back": "succeeded", "side": "succeeded", "bottom": "succeeded"}
    assert product["viewErrors"] == {"top": TROUBLE}
    assert _credits(api) == before - 3
    assert [a["action"] for a in product["nextActions"]] == ["generate-views"]


def test_a_failed_regeneration_is_refunded_and_keeps_the_old_view(flaky) -> None:
    api, generator, _ = flaky
    approval_id = _complete_product(api)
    api.post("/api/generate-additional-views", json={"approvalId": approval_id})
    old = api.get(f"/api/products/{approval_id}").json()
    before = _credits(api)
    generator.down = {"side"}
    started = _accepted(api.post(f"/api/products/{approval_id}/regenerate",
                                 params={"wait": "false"},
                                 json={"views": ["side"], "feedback": "a wider base"}))
    product = _job_ends(api, started)
    assert product["job"]["state"] == "failed"
    assert product["job"]["views"] == {"side": {"state": "failed", "error": {
        "error": "provider_unavailable", "message": TROUBLE}}}
    assert _credits(api) == before
    assert product["status"] == "complete"
    assert product["views"]["side"]["prompt"] == old["views"]["side"]["prompt"]
