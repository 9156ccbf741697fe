"""The optional three-quarter hero view over the HTTP API: ``"hero"`` in the views of
generate-additional-views (on approval) or of regenerate (added to a finished product),
charged at the hero price and returned with the product's views."""

from __future__ import annotations

import httpx


def _approved(api: httpx.Client, text: str) -> str:
    front = api.post("/api/generate-front-view", json={"text": text})
    assert front.status_code == 200, front.text
    approval_id = front.json()["approvalId"]
    approved = api.post("/api/approve-front-view",
                        json={"approvalId": approval_id, "approved": True, "feedback": ""})
    assert approved.status_code == 200, approved.text
    return approval_id


def test_hero_asked_for_with_the_other_views(alice_api: httpx.Client) -> None:
    approval_id = _approved(alice_api, "a red leather handbag")
    before = alice_api.get("/api/me").json()
    views = alice_api.post("/api/generate-additional-views",
                           json={"approvalId": approval_id,
                                 "views": ["back", "side", "top", "bottom", "hero"]})
    assert views.status_code == 200, views.text
    assert set(views.json()["views"]) == {"back", "side", "top", "bottom", "hero"}
    assert "three-quarter hero" in views.json()["views"]["hero"]["prompt"]
    after = alice_api.get("/api/me").json()
    assert before["credits"] - after["credits"] == \
        4 * before["prices"]["view"] + before["prices"]["hero"]
    product = alice_api.get(f"/api/products/{approval_id}").json()
    assert product["status"] == "complete" and product["views"]["hero"]["url"]
    assert product["revisions"][0]["views"]["hero"]["url"]


def test_hero_added_later_through_regenerate(alice_api: httpx.Client) -> None:
    approval_id = _approved(alice_api, "a teal ceramic mug")
    assert alice_api.post("/api/generate-additional-views",
                          json={"approvalId": approval_id}).status_code == 200
    product = alice_api.get(f"/api/products/{approval_id}").json()
    assert "hero" not in product["views"]  # a five-view product reads as before
    before = alice_api.get("/api/me").json()
    added = alice_api.post(f"/api/products/{approval_id}/regenerate",
                           json={"views": ["hero"], "feedback": "add the hero shot"})
    assert added.status_code == 200, added.text
    assert added.json()["regenerated"] == ["hero"] and added.json()["revisionNumber"] == 2
    assert added.json()["views"]["hero"]["url"]
    assert before["credits"] - alice_api.get("/api/me").json()["credits"] == \
        before["prices"]["hero"]
