"""Every error the API answers, as JSON {error, message} with its status, against uvicorn."""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from api_helpers import client, data_url, error_of, token_for
from supabase_auth.errors import AuthApiError

from viewgen import tokens
from viewgen.auth import create_account
from viewgen.blobs import LocalBlobStore
from viewgen.errors import ProviderUnavailable
from viewgen.providers.offline import OfflineExtractor
from viewgen.workflow import Studio

TEXT = {"text": "a red enamel kettle"}


def _front(api: httpx.Client) -> dict:
    response = api.post("/api/generate-front-view", json=TEXT)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------- 400
def test_400_for_input_the_studio_refuses(alice_api: httpx.Client) -> None:
    assert error_of(alice_api.post("/api/generate-front-view", json={"text": "   "})) == (
        400, "invalid_input")
    assert error_of(alice_api.post("/api/generate-front-view",
                                   json={"image": "data:image/png;base64,@@not base64@@"})) == (
        400, "invalid_input")
    not_an_image = data_url(b"just some text, not a picture", "image/png")
    assert error_of(alice_api.post("/api/generate-front-view",
                                   json={"image": not_an_image})) == (400, "invalid_input")
    rejected = alice_api.post("/api/approve-front-view",
                              json={"approvalId": _front(alice_api)["approvalId"],
                                    "approved": False, "feedback": ""})
    assert error_of(rejected) == (400, "invalid_input")
    # nothing was charged for any of it beyond the one good front
    me = alice_api.get("/api/me").json()
    assert me["credits"] == 50 - me["prices"]["front"]


# ---------------------------------------------------------------------- 401
def test_401_without_a_valid_token(server, repo, alice) -> None:
    bare = httpx.get(f"{server.url}/api/me")
    assert error_of(bare) == (401, "unauthorized")
    assert bare.headers["www-authenticate"].startswith("Bearer")
    with client(server, "vg_" + "x" * 43) as guess:
        assert error_of(guess.get("/api/me")) == (401, "unauthorized")
    with client(server, "eyJhbGciOiJIUzI1NiJ9.e30.c2ln") as jwt:  # no Supabase here
        assert error_of(jwt.get("/api/me")) == (401, "unauthorized")
    with httpx.Client(base_url=server.url, headers={"Authorization": "Basic YTpi"}) as basic:
        assert error_of(basic.get("/api/me")) == (401, "unauthorized")


def test_a_revoked_token_is_refused(server, repo, alice) -> None:
    token, secret = tokens.create(repo, alice, "script")
    with client(server, secret) as api:
        assert api.get("/api/me").status_code == 200
        tokens.revoke(repo, alice, token.id)
        assert error_of(api.get("/api/me")) == (401, "unauthorized")
    # the owner's list still shows it, as revoked
    listed = {t.id: t for t in tokens.list_tokens(repo, alice)}
    assert listed[token.id].revoked_at is not None


# ---------------------------------------------------------------------- 402
def test_402_when_credits_do_not_cover_the_price(server, repo, settings, admin) -> None:
    broke = create_account(repo, settings, "broke@example.com", password_hash=None,
                           credits_granted=0)
    with client(server, token_for(repo, broke)) as api:
        response = api.post("/api/generate-front-view", json=TEXT)
        assert error_of(response) == (402, "insufficient_credits")
        assert response.json()["balance"] == 0
        assert response.json()["needed"] == api.get("/api/me").json()["prices"]["front"]
        assert api.get("/api/products").json()["products"] == []


# ---------------------------------------------------------------------- 403 / 404
def test_403_a_member_may_not_list_another_persons_products(alice_api, bob) -> None:
    assert error_of(alice_api.get("/api/products", params={"userId": bob.id})) == (
        403, "forbidden")


def test_404_not_403_for_another_persons_product(alice_api, bob_api) -> None:
    approval_id = _front(alice_api)["approvalId"]
    missing = "00000000-0000-4000-8000-000000000000"
    for target in (approval_id, missing):
        got = [
            bob_api.get(f"/api/products/{target}"),
            bob_api.post("/api/approve-front-view", json={"approvalId": target,
                                                          "approved": True}),
            bob_api.post("/api/approve-front-view", json={"approvalId": target,
                                                          "approved": False,
                                                          "feedback": "red"}),
            bob_api.post("/api/generate-additional-views", json={"approvalId": target}),
            bob_api.post(f"/api/products/{target}/regenerate",
                         json={"views": ["back"], "feedback": "x"}),
        ]
        assert [error_of(r) for r in got] == [(404, "not_found")] * len(got)
    # the same answer whether the product exists or not: ids leak nothing
    assert (bob_api.get(f"/api/products/{approval_id}").json()
            == bob_api.get(f"/api/products/{missing}").json())
    # and Alice's product is untouched
    assert alice_api.get(f"/api/products/{approval_id}").json()["status"] == "front_review"
    assert error_of(bob_api.get("/api/no-such-route")) == (404, "not_found")


# ---------------------------------------------------------------------- 409
def test_409_for_a_step_the_product_is_not_ready_for(alice_api) -> None:
    approval_id = _front(alice_api)["approvalId"]
    ok = alice_api.post("/api/approve-front-view", json={"approvalId": approval_id,
                                                         "approved": True})
    assert ok.status_code == 200
    again = alice_api.post("/api/approve-front-view", json={"approvalId": approval_id,
                                                            "approved": True})
    assert error_of(again) == (409, "wrong_state")
    reject_now = alice_api.post("/api/approve-front-view",
                                json={"approvalId": approval_id, "approved": False,
                                      "feedback": "make it blue"})
    assert error_of(reject_now) == (409, "wrong_state")


# ---------------------------------------------------------------------- 413
def _raw(port: int, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send ``head`` and as much of the body as the server takes; return its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        for part in body_parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
        return answer


def _head(port: int, token: str, extra: str) -> bytes:
    return (f"POST /api/generate-front-view HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"{extra}\r\n").encode()


def test_413_refuses_a_declared_large_body_before_reading_it(serve, studio, repo, alice) -> None:
    server = serve(studio, api_max_body_mb=0.05)
    token = token_for(repo, alice)
    # declares 50 MB, sends 1 KB and waits: the answer must come without the rest
    answer = _raw(server.port, _head(server.port, token, "Content-Length: 50000000\r\n"),
                  [b'{"text": "' + b"a" * 1024])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"error":"body_too_large"' in answer
    with client(server, token) as api:
        assert api.get("/api/products").json()["products"] == []


def test_413_refuses_a_chunked_body_once_it_passes_the_limit(serve, studio, repo, alice) -> None:
    server = serve(studio, api_max_body_mb=0.05)  # about 52 KB
    token = token_for(repo, alice)
    chunk = b"a" * 8192
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    # 10 chunks (80 KB) and never the closing chunk: only a server counting as it reads
    # can answer
    answer = _raw(server.port, _head(server.port, token, "Transfer-Encoding: chunked\r\n"),
                  [framed] * 10)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body_too_large" in answer


def test_a_body_within_the_limit_is_served(serve, studio, repo, alice) -> None:
    server = serve(studio, api_max_body_mb=0.05)
    with client(server, token_for(repo, alice)) as api:
        assert api.post("/api/generate-front-view", json=TEXT).status_code == 200


# ---------------------------------------------------------------------- 422
def test_422_for_a_body_that_does_not_fit_the_route(alice_api) -> None:
    assert error_of(alice_api.post("/api/approve-front-view", json={"approved": True})) == (
        422, "invalid_request")
    assert error_of(alice_api.post("/api/generate-front-view",
                                   json={"text": "a mug", "colour": "red"})) == (
        422, "invalid_request")
    assert error_of(alice_api.post("/api/generate-front-view", content=b"{not json",
                                   headers={"Content-Type": "application/json"})) == (
        422, "invalid_request")
    assert error_of(alice_api.post("/api/products/x/regenerate",
                                   json={"views": ["sideways"], "feedback": "x"})) == (
        422, "invalid_request")


# ---------------------------------------------------------------------- 429
def test_429_per_token_with_retry_after(serve, studio, repo, alice) -> None:
    server = serve(studio, api_rate_per_minute=3)
    with client(server, token_for(repo, alice, "one")) as one, \
            client(server, token_for(repo, alice, "two")) as two:
        assert [one.get("/api/me").status_code for _ in range(3)] == [200, 200, 200]
        limited = one.get("/api/me")
        assert error_of(limited) == (429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        assert two.get("/api/me").status_code == 200  # each token has its own budget


# ---------------------------------------------------------------------- 503
class DownGenerator:
    name = "loopback-down"
    model = "down-1"

    def generate(self, request):
        raise ProviderUnavailable("The image service is having trouble right now; try again "
                                  "in a moment.", provider=self.name)


def test_503_when_the_provider_is_down_and_nothing_is_charged(serve, settings, repo,
                                                              alice) -> None:
    down = Studio(settings, repo, LocalBlobStore(settings.blob_dir), DownGenerator(),
                  OfflineExtractor())
    try:
        server = serve(down)
        with client(server, token_for(repo, alice)) as api:
            before = api.get("/api/me").json()["credits"]
            response = api.post("/api/generate-front-view", json=TEXT)
            assert error_of(response) == (503, "provider_unavailable")
            assert "trouble" in response.json()["message"]
            assert api.get("/api/me").json()["credits"] == before
            failed = api.get("/api/products").json()["products"]
            assert [p["status"] for p in failed] == ["failed"]
            detail = api.get(f"/api/products/{failed[0]['id']}").json()
            assert [a["action"] for a in detail["nextActions"]] == ["retry-front"]
    finally:
        down.close()


# ---------------------------------------------------------------------- signed links
def _link_parts(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path.removeprefix("/api/images/"), query["exp"][0], query["sig"][0]


def test_signed_image_links_refuse_expired_and_tampered(server, alice_api) -> None:
    url = _front(alice_api)["frontView"]["url"]
    assert httpx.get(url).status_code == 200
    key, exp, sig = _link_parts(url)
    signer = server.app.state.api.signer

    expired = server.url + signer.path(key, now=time.time() - 2 * signer.lifetime_s)
    assert error_of(httpx.get(expired)) == (403, "link_expired")

    flipped = sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")
    tampered = f"{server.url}/api/images/{key}?exp={exp}&sig={flipped}"
    assert error_of(httpx.get(tampered)) == (403, "forbidden")
    later = f"{server.url}/api/images/{key}?exp={int(exp) + 86400}&sig={sig}"
    assert error_of(httpx.get(later)) == (403, "forbidden")  # a longer life is not signed
    other_key = key.replace("front-1", "reference-1")
    assert error_of(httpx.get(f"{server.url}/api/images/{other_key}?exp={exp}&sig={sig}")) == (
        403, "forbidden")
    assert error_of(httpx.get(f"{server.url}/api/images/{key}")) == (403, "forbidden")


def test_the_signing_key_is_kept_in_the_data_dir_and_never_served(server, settings) -> None:
    key_file = settings.data_dir / "api-signing.key"
    secret = key_file.read_text().strip()
    assert len(secret) >= 32
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert secret not in repr(server.app.state.api.signer)
    spec = httpx.get(f"{server.url}/openapi.json").text
    assert secret not in spec


# ---------------------------------------------------------------------- Supabase tokens
class FakeSupabaseAuth:
    """Stands in for supabase_auth's client: knows one valid access token."""

    def __init__(self, valid: dict[str, SimpleNamespace]) -> None:
        self.valid = valid
        self.asked: list[str] = []

    def get_user(self, jwt: str | None = None):
        self.asked.append(jwt or "")
        if jwt in self.valid:
            return SimpleNamespace(user=self.valid[jwt])
        raise AuthApiError("invalid JWT: unable to parse or verify signature", 403, "bad_jwt")


def test_a_supabase_access_token_is_verified_with_supabase(serve, studio, admin) -> None:
    person = SimpleNamespace(id="5b0f3b1e-7d6c-4f55-9d44-4c3c0c1f0a11",
                             email="sam@example.com", user_metadata={"display_name": "Sam"})
    auth = FakeSupabaseAuth({"eyJ.valid.token": person})
    server = serve(studio, supabase_client=SimpleNamespace(auth=auth))
    with client(server, "eyJ.valid.token") as api:
        me = api.get("/api/me").json()
        assert (me["id"], me["email"], me["authenticatedWith"]) == (
            person.id, "sam@example.com", "supabase")
    assert auth.asked == ["eyJ.valid.token"]
    # a token Supabase does not vouch for is refused, however it looks
    with client(server, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.forged") as forged:
        assert error_of(forged.get("/api/me")) == (401, "unauthorized")
    assert auth.asked[-1].endswith(".forged")


@pytest.mark.parametrize("header", ["Bearer", "Bearer vg_", "Token abc"])
def test_malformed_authorization_headers_are_401(server, header: str) -> None:
    response = httpx.get(f"{server.url}/api/me", headers={"Authorization": header})
    assert error_of(response) == (401, "unauthorized")

