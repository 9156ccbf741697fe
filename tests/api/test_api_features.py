"""Edited features on approval (issue 10, part 3) through the API: the API approves,
then hands the edits to ``Studio.correct_features``, and the views follow them."""

from __future__ import annotations

import httpx
from api_helpers import error_of


def _front(api: httpx.Client) -> str:
    return api.post("/api/generate-front-view",
                    json={"text": "a red wool scarf"}).json()["approvalId"]


def test_edited_features_that_do_not_fit_the_record_are_422(alice_api) -> None:
    approval_id = _front(alice_api)
    bad = alice_api.post("/api/approve-front-view", json={
        "approvalId": approval_id, "approved": True,
        "features": {"colors": [{"hex": "not a colour", "name": "red"}]}})
    assert error_of(bad) == (422, "invalid_features")
    assert "hex" in bad.json()["message"]
    still = alice_api.get(f"/api/products/{approval_id}").json()
    assert still["status"] == "front_review"  # nothing changed


def test_edited_features_anchor_the_views(alice_api) -> None:
    approval_id = _front(alice_api)
    edited = {"colors": [{"hex": "#1B3A8C", "name": "navy", "usage": "primary"}],
              "materials": ["cashmere"], "keyElements": ["fringe"],
              "description": "A navy cashmere scarf with a fringe."}
    approved = alice_api.post("/api/approve-front-view", json={
        "approvalId": approval_id, "approved": True, "features": edited})
    assert approved.status_code == 200, approved.text
    assert approved.json()["extractedFeatures"]["materials"] == ["cashmere"]
    views = alice_api.post("/api/generate-additional-views",
                           json={"approvalId": approval_id}).json()["views"]
    assert all("cashmere" in v["prompt"].lower() for v in views.values())


def test_edited_features_need_a_waiting_approval(alice_api) -> None:
    approval_id = _front(alice_api)
    refused = alice_api.post("/api/approve-front-view", params={"wait": "false"}, json={
        "approvalId": approval_id, "approved": True, "features": {"description": "x"}})
    assert error_of(refused) == (400, "invalid_input")
    assert alice_api.get(f"/api/products/{approval_id}").json()["status"] == "front_review"
