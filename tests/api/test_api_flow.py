"""The seed's three routes end to end against a real uvicorn, and the routes around them."""

from __future__ import annotations

import io

import httpx
from api_helpers import client, data_url, photo, token_for
from PIL import Image
from sqlalchemy import select

from viewgen.blobs import LocalBlobStore
from viewgen.providers.offline import OfflineExtractor, OfflineGenerator
from viewgen.store import schema as t
from viewgen.workflow import Studio


def _png_size(url: str) -> tuple[int, int]:
    # a signed link needs no bearer token: fetch it with a bare client
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).size


def test_seed_routes_charge_one_product_and_return_signed_views(alice_api: httpx.Client) -> None:
    me = alice_api.get("/api/me").json()
    assert me["email"] == "alice@example.com" and me["authenticatedWith"] == "api_token"
    start, prices = me["credits"], me["prices"]

    front = alice_api.post("/api/generate-front-view",
                           json={"text": "a teal ceramic mug with a gold rim",
                                 "sessionId": "shop-42"})
    assert front.status_code == 200, front.text
    body = front.json()
    assert body["sessionId"] == "shop-42"
    assert body["status"] == "front_review"
    assert "mug" in body["frontView"]["prompt"].lower()
    assert "/api/images/" in body["frontView"]["url"] and "sig=" in body["frontView"]["url"]
    assert _png_size(body["frontView"]["url"]) == (256, 256)
    approval_id = body["approvalId"]

    approved = alice_api.post("/api/approve-front-view",
                              json={"approvalId": approval_id, "approved": True,
                                    "feedback": ""})
    assert approved.status_code == 200, approved.text
    features = approved.json()["extractedFeatures"]
    assert features["colors"] and features["description"]
    assert approved.json()["nextPrice"] == prices["otherViews"]

    views = alice_api.post("/api/generate-additional-views", json={"approvalId": approval_id})
    assert views.status_code == 200, views.text
    got = views.json()["views"]
    assert set(got) == {"back", "side", "top", "bottom"}
    for view, image in got.items():
        assert view in image["prompt"].lower()
        assert _png_size(image["url"]) == (256, 256)

    after = alice_api.get("/api/me").json()["credits"]
    assert start - after == prices["product"]  # the product's price, whatever it is set to

    product = alice_api.get(f"/api/products/{approval_id}").json()
    assert product["status"] == "complete"
    assert product["sessionId"] == "shop-42"
    assert all(product["views"][v]["url"] for v in ("front", "back", "side", "top", "bottom"))
    assert [r["revisionNumber"] for r in product["revisions"]] == [1]
    assert product["extractedFeatures"] == features
    assert [a["action"] for a in product["nextActions"]] == ["regenerate"]
    assert product["nextActions"][0]["price"] == prices["regenerateView"]

    listed = alice_api.get("/api/products").json()["products"]
    assert [p["id"] for p in listed] == [approval_id]


def test_a_reference_photo_and_a_logo(alice_api: httpx.Client) -> None:
    prices = alice_api.get("/api/me").json()["prices"]
    front = alice_api.post("/api/generate-front-view",
                           json={"image": data_url(photo()), "text": "a box",
                                 "logo": data_url(photo((20, 20, 200), 64))})
    assert front.status_code == 200, front.text
    first = front.json()
    assert first["credits"]["charged"] == prices["front"]
    assert first["sessionId"]  # made for the caller when none was sent
    assert _png_size(first["frontView"]["url"]) == (256, 256)


def test_a_rejection_with_feedback_returns_the_new_front(alice_api: httpx.Client) -> None:
    prices = alice_api.get("/api/me").json()["prices"]
    first = alice_api.post("/api/generate-front-view",
                           json={"text": "a red ceramic mug"}).json()
    rejected = alice_api.post("/api/approve-front-view",
                              json={"approvalId": first["approvalId"], "approved": False,
                                    "feedback": "make it blue"})
    assert rejected.status_code == 200, rejected.text
    again = rejected.json()
    assert again["approved"] is False and again["status"] == "front_review"
    assert again["extractedFeatures"] is None
    assert again["frontView"]["url"] != first["frontView"]["url"]
    assert again["credits"]["charged"] == prices["retry"]

    product = alice_api.get(f"/api/products/{first['approvalId']}").json()
    assert product["rejectionCount"] == 1
    assert product["feedbackHistory"] == ["make it blue"]
    assert [r["feedback"] for r in product["rejectedFronts"]] == ["make it blue"]
    assert {a["action"]: a["price"] for a in product["nextActions"]} == {
        "approve": 0, "reject": prices["retry"]}


def test_regenerate_a_view_of_a_complete_product(alice_api: httpx.Client) -> None:
    prices = alice_api.get("/api/me").json()["prices"]
    approval_id = alice_api.post("/api/generate-front-view",
                                 json={"text": "a black leather backpack"}).json()["approvalId"]
    alice_api.post("/api/approve-front-view", json={"approvalId": approval_id, "approved": True})
    before = alice_api.post("/api/generate-additional-views",
                            json={"approvalId": approval_id}).json()["views"]

    again = alice_api.post(f"/api/products/{approval_id}/regenerate",
                           json={"views": ["side"], "feedback": "make it red"})
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["revisionNumber"] == 2 and body["regenerated"] == ["side"]
    assert body["credits"]["charged"] == prices["regenerateView"]
    assert body["views"]["side"]["url"].split("?")[0] != before["side"]["url"].split("?")[0]
    assert body["views"]["back"]["url"].split("?")[0] == before["back"]["url"].split("?")[0]


def test_openapi_docs_are_served(server) -> None:
    docs = httpx.get(f"{server.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path in ("/api/generate-front-view", "/api/approve-front-view",
                 "/api/generate-additional-views", "/api/products/{approval_id}", "/api/me"):
        assert path in spec["paths"]


class SignedUrlStore(LocalBlobStore):
    """A local store that, like Supabase Storage, mints its own signed URLs."""

    def url(self, key: str) -> str | None:
        return f"https://storage.example/object/sign/images/{key}?token=t"


def test_a_store_with_its_own_signed_urls_is_used_as_is(serve, settings, repo, alice) -> None:
    studio = Studio(settings, repo, SignedUrlStore(settings.blob_dir), OfflineGenerator(),
                    OfflineExtractor())
    try:
        server = serve(studio)
        with client(server, token_for(repo, alice)) as api:
            front = api.post("/api/generate-front-view", json={"text": "a grey felt hat"})
            url = front.json()["frontView"]["url"]
            assert url.startswith("https://storage.example/object/sign/images/")
            assert url.endswith("/front-1.png?token=t")
    finally:
        studio.close()
    with repo.engine.connect() as conn:  # the database keeps the key, never a URL
        stored = conn.execute(select(t.product_view_approvals.c.front_key)).scalar_one()
    assert stored.endswith("/front-1.png") and "://" not in stored


def test_an_admin_may_list_another_persons_products(server, repo, admin, alice_api,
                                                    alice) -> None:
    approval_id = alice_api.post("/api/generate-front-view",
                                 json={"text": "a cork coaster"}).json()["approvalId"]
    with client(server, token_for(repo, admin)) as boss:
        assert boss.get("/api/products").json()["products"] == []  # their own by default
        listed = boss.get("/api/products", params={"userId": alice.id}).json()["products"]
        assert [p["id"] for p in listed] == [approval_id]


def test_every_answer_says_where_its_time_went(alice_api: httpx.Client) -> None:
    """Server-Timing: the auth, the Studio call and the whole request, in ms; the API's own
    share is the round trip minus the Studio call (what bench/api.py reports)."""
    from viewgen.api.timing import parse

    front = alice_api.post("/api/generate-front-view", json={"text": "a red enamel kettle"})
    assert front.status_code == 200, front.text
    spans = parse(front.headers["server-timing"])
    assert set(spans) == {"auth", "studio", "app"}
    assert 0 < spans["auth"] < spans["app"] and 0 < spans["studio"] < spans["app"]
    assert spans["auth"] + spans["studio"] <= spans["app"]
    # the front is drawn inside the Studio call: it is most of the request
    assert spans["studio"] > spans["app"] / 2
    assert spans["app"] <= front.elapsed.total_seconds() * 1000

    product = alice_api.get(f"/api/products/{front.json()['approvalId']}")
    assert set(parse(product.headers["server-timing"])) == {"auth", "studio", "app"}

    refused = httpx.get(str(alice_api.base_url).rstrip("/") + "/api/me", timeout=30)  # no token
    assert refused.status_code == 401
    assert set(parse(refused.headers["server-timing"])) == {"auth", "app"}
