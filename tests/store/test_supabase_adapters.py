"""The Supabase Storage BlobStore and Supabase Auth, run with the real ``supabase``
client against a loopback server that speaks the Storage and Auth (GoTrue) REST
formats, including their 4xx/5xx answers; plus a Studio whose uploads fail."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select, text

from viewgen import credits
from viewgen.auth import build_auth, create_account
from viewgen.auth_supabase import ConfirmEmail, SupabaseAuth
from viewgen.blobs import build_blob_store
from viewgen.blobs_supabase import SupabaseBlobStore, bucket_for
from viewgen.domain import (
    CallUsage,
    GeneratedImage,
    GenerationRequest,
    InputType,
    Role,
    Status,
    ViewType,
)
from viewgen.errors import AuthError, ConfigurationError, NotFound, StorageError
from viewgen.settings import Settings
from viewgen.store import SYSTEM, Repository
from viewgen.store import schema as t

SERVICE_KEY = "service-role-key"
ANON_KEY = "anon-key"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeSupabase:
    """State behind the loopback server: objects, users, sessions, injected failures."""

    objects: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    buckets: set[str] = field(default_factory=lambda: {"images", "uploads", "products"})
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # by email
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> email
    confirm_email: bool = False
    seen: list[Seen] = field(default_factory=list)
    failures: list[tuple[str, str, int, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def fail_next(self, method: str, path_prefix: str, status: int, body: Any) -> None:
        self.failures.append((method, path_prefix, status, body))

    def requests(self, method: str, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(prefix)]


def _user_json(user: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "id": user["id"], "aud": "authenticated", "role": "authenticated",
        "email": user["email"], "email_confirmed_at": now if user["confirmed"] else None,
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": user["metadata"], "created_at": now, "updated_at": now,
        "identities": [], "is_anonymous": False,
    }


def _auth_err(status: int, code: str, msg: str, **extra: Any) -> tuple[int, dict]:
    return status, {"code": status, "error_code": code, "msg": msg, **extra}


def _storage_err(status: int, error: str, message: str) -> tuple[int, dict]:
    return (400 if status == 404 else status), {
        "statusCode": str(status), "error": error, "message": message}


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
            ctype = "text/html" if isinstance(body, str) else "application/octet-stream"
        elif body is None:
            data, ctype = b"", "application/json"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        fake: FakeSupabase = self.server.fake
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, unquote(parts.path), parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()}, body)
        with fake.lock:
            fake.seen.append(seen)
            for i, (method, prefix, status, reply) in enumerate(fake.failures):
                if method == self.command and seen.path.startswith(prefix):
                    del fake.failures[i]
                    self._reply(status, reply)
                    return
        if seen.path.startswith("/storage/v1/"):
            status, reply = self._storage(fake, seen)
        elif seen.path.startswith("/auth/v1/"):
            status, reply = self._auth(fake, seen)
        else:
            status, reply = 404, {"message": "no route"}
        self._reply(status, reply)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    # -- Storage --------------------------------------------------------------------
    def _storage(self, fake: FakeSupabase, seen: Seen) -> tuple[int, Any]:
        if seen.headers.get("apikey") != SERVICE_KEY or \
                seen.headers.get("authorization") != f"Bearer {SERVICE_KEY}":
            return _storage_err(403, "Unauthorized",
                                "new row violates row-level security policy")
        rest = seen.path[len("/storage/v1/object/"):]
        with fake.lock:
            if seen.method == "POST" and rest.startswith("sign/"):
                bucket, _, path = rest[len("sign/"):].partition("/")
                if (bucket, path) not in fake.objects:
                    return _storage_err(404, "not_found", "Object not found")
                expires = json.loads(seen.body)["expiresIn"]
                return 200, {"signedURL": f"/object/sign/{bucket}/{path}?token=t{expires}"}
            if seen.method == "GET" and rest.startswith("info/"):
                bucket, _, path = rest[len("info/"):].partition("/")
                if (bucket, path) not in fake.objects:
                    return 404, {"statusCode": "404", "error": "not_found",
                                 "message": "Object not found"}
                return 200, {"name": path, "bucket_id": bucket}
            bucket, _, path = rest.partition("/")
            if bucket not in fake.buckets:
                return _storage_err(404, "Bucket not found", "Bucket not found")
            if seen.method == "POST":
                if (bucket, path) in fake.objects and seen.headers.get("x-upsert") != "true":
                    return _storage_err(409, "Duplicate", "The resource already exists")
                data, ctype = _multipart_file(seen)
                fake.objects[(bucket, path)] = (data, ctype)
                return 200, {"Key": f"{bucket}/{path}", "Id": str(uuid.uuid4())}
            if seen.method == "GET":
                if (bucket, path) not in fake.objects:
                    return _storage_err(404, "not_found", "Object not found")
                return 200, fake.objects[(bucket, path)][0]
            if seen.method == "DELETE":
                removed = []
                for prefix in json.loads(seen.body)["prefixes"]:
                    if fake.objects.pop((bucket, prefix), None) is not None:
                        removed.append({"name": prefix, "bucket_id": bucket})
                return 200, removed
        return 404, {"statusCode": "404", "error": "not_found", "message": "no route"}

    # -- Auth -----------------------------------------------------------------------
    def _session(self, fake: FakeSupabase, user: dict[str, Any]) -> dict[str, Any]:
        token = f"access-{user['email']}-{uuid.uuid4().hex[:8]}"
        fake.tokens[token] = user["email"]
        return {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                "expires_at": int(time.time()) + 3600, "refresh_token": uuid.uuid4().hex,
                "user": _user_json(user)}

    def _auth(self, fake: FakeSupabase, seen: Seen) -> tuple[int, Any]:
        route = seen.path[len("/auth/v1/"):]
        data = json.loads(seen.body) if seen.body else {}
        with fake.lock:
            if seen.method == "POST" and route == "signup":
                email = data["email"]
                if email in fake.users:
                    return _auth_err(422, "user_already_exists", "User already registered")
                if len(data["password"]) < 10:
                    return _auth_err(422, "weak_password", "Password is too weak",
                                     weak_password={"reasons": ["length"]})
                user = {"id": str(uuid.uuid4()), "email": email, "password": data["password"],
                        "confirmed": not fake.confirm_email,
                        "metadata": data.get("data") or {}}
                fake.users[email] = user
                if fake.confirm_email:
                    return 200, _user_json(user)
                return 200, self._session(fake, user)
            if seen.method == "POST" and route == "token":
                assert seen.query == {"grant_type": ["password"]}
                user = fake.users.get(data.get("email"))
                if user is None or user["password"] != data.get("password"):
                    return _auth_err(400, "invalid_credentials", "Invalid login credentials")
                if not user["confirmed"]:
                    return _auth_err(400, "email_not_confirmed", "Email not confirmed")
                return 200, self._session(fake, user)
            if seen.method == "GET" and route == "user":
                token = seen.headers.get("authorization", "").removeprefix("Bearer ")
                if token not in fake.tokens:
                    return _auth_err(403, "bad_jwt", "invalid JWT")
                return 200, _user_json(fake.users[fake.tokens[token]])
            if seen.method == "POST" and route == "logout":
                token = seen.headers.get("authorization", "").removeprefix("Bearer ")
                fake.tokens.pop(token, None)
                return 204, None
            if seen.method == "POST" and route == "admin/users":
                if seen.headers.get("authorization") != f"Bearer {SERVICE_KEY}":
                    return _auth_err(403, "not_admin", "User not allowed")
                if data["email"] in fake.users:
                    return _auth_err(422, "email_exists", "A user with this email exists")
                user = {"id": data.get("id") or str(uuid.uuid4()), "email": data["email"],
                        "password": None, "confirmed": bool(data.get("email_confirm")),
                        "metadata": data.get("user_metadata") or {}}
                fake.users[data["email"]] = user
                return 200, _user_json(user)
        return 404, {"code": 404, "error_code": "not_found", "msg": "no route"}


def _multipart_file(seen: Seen) -> tuple[bytes, str]:
    raw = f"Content-Type: {seen.headers['content-type']}\r\n\r\n".encode() + seen.body
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_payload(decode=True), part.get_content_type()
    raise AssertionError("no file part in the upload")


@pytest.fixture
def fake() -> Iterator[FakeSupabase]:
    state = FakeSupabase()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.fake = state  # type: ignore[attr-defined]
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _settings(fake: FakeSupabase, tmp_path, key: str = SERVICE_KEY, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", supabase_url=fake.base_url,
                    supabase_key=key, signed_url_expiry_s=120, **extra)


@pytest.fixture
def store(fake: FakeSupabase, tmp_path) -> SupabaseBlobStore:
    found = build_blob_store(_settings(fake, tmp_path))
    assert isinstance(found, SupabaseBlobStore)
    return found


KEY = "3f1c2b9e-0000-4000-8000-000000000001/ab12/front-1.png"


# ---------------------------------------------------------------------- storage
def test_settings_select_supabase_when_url_and_key_are_set(fake, tmp_path) -> None:
    chosen = _settings(fake, tmp_path)
    assert (chosen.blob_backend, chosen.auth_backend) == ("supabase", "supabase")
    explicit = _settings(fake, tmp_path, blob_backend="local", auth_backend="local")
    assert (explicit.blob_backend, explicit.auth_backend) == ("local", "local")
    assert Settings(data_dir=tmp_path).blob_backend == "local"
    with pytest.raises(ConfigurationError, match="SUPABASE_URL"):
        SupabaseBlobStore.from_settings(Settings(data_dir=tmp_path, blob_backend="supabase"))


def test_put_get_url_delete_round_trip(store: SupabaseBlobStore, fake: FakeSupabase) -> None:
    store.put(KEY, b"\x89PNG fake", "image/png")
    [upload] = fake.requests("POST", "/storage/v1/object/images/")
    assert upload.path == f"/storage/v1/object/images/{KEY}"
    assert upload.headers["x-upsert"] == "false"  # a key is never overwritten
    assert upload.headers["apikey"] == SERVICE_KEY
    assert upload.headers["authorization"] == f"Bearer {SERVICE_KEY}"
    assert fake.objects[("images", KEY)] == (b"\x89PNG fake", "image/png")

    assert store.exists(KEY)
    assert store.get(KEY) == b"\x89PNG fake"
    url = store.url(KEY)
    assert url is not None and url.startswith(f"{fake.base_url}/storage/v1/object/sign/images/")
    [sign] = fake.requests("POST", "/storage/v1/object/sign/")
    assert json.loads(sign.body) == {"expiresIn": "120"}  # from settings, minted when shown

    store.delete(KEY)
    [removal] = fake.requests("DELETE", "/storage/v1/object/images")
    assert json.loads(removal.body) == {"prefixes": [KEY]}
    assert not store.exists(KEY)
    store.delete(KEY)  # deleting twice is fine
    with pytest.raises(NotFound, match="no longer in storage"):
        store.get(KEY)


def test_uploads_and_exports_go_to_their_buckets(store: SupabaseBlobStore,
                                                 fake: FakeSupabase) -> None:
    uid = "3f1c2b9e-0000-4000-8000-000000000001"
    assert bucket_for(f"{uid}/a/reference-1.png") == "uploads"
    assert bucket_for(f"{uid}/a/logo-2.png") == "uploads"
    assert bucket_for(f"{uid}/a/export-1.zip") == "products"
    assert bucket_for(f"{uid}/a/back-3.png") == "images"
    store.put(f"{uid}/a/logo-1.png", b"logo", "image/webp")
    assert fake.objects[("uploads", f"{uid}/a/logo-1.png")] == (b"logo", "image/webp")


def test_a_key_is_never_overwritten(store: SupabaseBlobStore, fake: FakeSupabase) -> None:
    store.put(KEY, b"first")
    with pytest.raises(StorageError, match="nothing was overwritten"):
        store.put(KEY, b"second")
    assert fake.objects[("images", KEY)][0] == b"first"


def test_unsafe_keys_are_refused_before_any_request(store: SupabaseBlobStore,
                                                    fake: FakeSupabase) -> None:
    from viewgen.errors import InvalidInput

    for key in ("../etc/passwd", "/abs/x.png", "a/../../b.png", "nofolder.png"):
        with pytest.raises(InvalidInput):
            store.put(key, b"x")
    assert fake.seen == []


@pytest.mark.parametrize(("status", "body", "message"), [
    (500, {"statusCode": "500", "error": "internal", "message": "boom"}, "having trouble"),
    (502, "<html>Bad gateway</html>", "having trouble"),
    (400, {"statusCode": "404", "error": "Bucket not found", "message": "Bucket not found"},
     "storage.sql"),
    (400, {"statusCode": "413", "error": "Payload too large", "message": "too large"},
     "larger than"),
    (429, {"statusCode": "429", "error": "too_many", "message": "slow down"}, "rate limiting"),
])
def test_storage_errors_become_messages_for_a_person(store: SupabaseBlobStore,
                                                     fake: FakeSupabase, status, body,
                                                     message) -> None:
    fake.fail_next("POST", "/storage/v1/object/images/", status, body)
    with pytest.raises(StorageError, match=message) as caught:
        store.put(KEY, b"x")
    assert "Traceback" not in str(caught.value)
    assert ("images", KEY) not in fake.objects


def test_a_key_that_storage_refuses_says_which_key_to_use(fake, tmp_path) -> None:
    anon = SupabaseBlobStore.from_settings(_settings(fake, tmp_path, key=ANON_KEY))
    with pytest.raises(StorageError, match="service_role"):
        anon.put(KEY, b"x")
    with pytest.raises(StorageError, match="service_role"):
        anon.exists(KEY)


def test_an_unreachable_storage_is_a_storage_error(tmp_path) -> None:
    store = SupabaseBlobStore.from_settings(Settings(
        data_dir=tmp_path, supabase_url="http://127.0.0.1:1", supabase_key=SERVICE_KEY))
    with pytest.raises(StorageError, match="Could not reach Supabase Storage"):
        store.get(KEY)


# ---------------------------------------------------------------------- auth
@pytest.fixture
def sb_settings(fake: FakeSupabase, settings: Settings) -> Settings:
    # SUPABASE_URL and SUPABASE_KEY alone select the Supabase backends
    return Settings(data_dir=settings.data_dir, database_url=settings.database_url,
                    supabase_url=fake.base_url, supabase_key=SERVICE_KEY)


def test_sign_up_and_sign_in_create_one_local_user_with_the_supabase_id(
        repo: Repository, sb_settings: Settings, fake: FakeSupabase) -> None:
    auth = build_auth(repo, sb_settings)
    assert isinstance(auth, SupabaseAuth)
    first = auth.sign_up("Ada@Example.com", "a long password", "Ada")
    assert first.id == fake.users["ada@example.com"]["id"]
    assert first.role == Role.ADMIN and first.display_name == "Ada"
    [signup] = fake.requests("POST", "/auth/v1/signup")
    sent = json.loads(signup.body)
    assert sent["email"] == "ada@example.com" and sent["data"] == {"display_name": "Ada"}
    assert signup.headers["apikey"] == SERVICE_KEY
    assert signup.headers["content-type"].startswith("application/json")
    auth.sign_out()
    assert fake.requests("POST", "/auth/v1/logout")[0].query == {"scope": ["local"]}

    second = SupabaseAuth(repo, sb_settings)
    again = second.sign_in("ada@example.com", "a long password")
    assert again.id == first.id
    bob = SupabaseAuth(repo, sb_settings).sign_up("bob@example.com", "another long one")
    assert bob.role == Role.MEMBER
    with repo.tx(SYSTEM) as tx:
        assert tx.count_users() == 2
        assert credits.balance(tx, bob.id) == sb_settings.starting_credits
        assert tx.user_credentials("bob@example.com")[1] is None  # Supabase keeps passwords


def test_two_sessions_keep_their_own_authorization_header(
        repo: Repository, sb_settings: Settings, fake: FakeSupabase) -> None:
    for address in ("ada@example.com", "bob@example.com"):
        SupabaseAuth(repo, sb_settings).sign_up(address, "a long password")
    ada_session, bob_session = SupabaseAuth(repo, sb_settings), SupabaseAuth(repo, sb_settings)
    ada = ada_session.sign_in("ada@example.com", "a long password")
    bob = bob_session.sign_in("bob@example.com", "a long password")
    ada_token, bob_token = ada_session.access_token, bob_session.access_token
    assert ada_token and bob_token and ada_token != bob_token
    assert ada_session.client.options.headers["Authorization"] == f"Bearer {ada_token}"
    assert bob_session.client.options.headers["Authorization"] == f"Bearer {bob_token}"
    # each client asks "who am I" with its own token and hears its own answer
    assert ada_session.client.auth.get_user().user.id == ada.id
    assert bob_session.client.auth.get_user().user.id == bob.id
    whoami = fake.requests("GET", "/auth/v1/user")
    assert [s.headers["authorization"] for s in whoami] == [f"Bearer {ada_token}",
                                                            f"Bearer {bob_token}"]
    # the shared blob store's client never signs in: still the service key
    blobs = build_blob_store(sb_settings)
    blobs.put(f"{ada.id}/x/front-1.png", b"img")
    assert fake.requests("POST", "/storage/v1/object/")[-1].headers["authorization"] == \
        f"Bearer {SERVICE_KEY}"
    bob_session.sign_out()
    assert bob_session.client.options.headers["Authorization"] == f"Bearer {SERVICE_KEY}"
    assert ada_session.client.options.headers["Authorization"] == f"Bearer {ada_token}"


def test_email_confirmation_then_first_sign_in(repo: Repository, sb_settings: Settings,
                                               fake: FakeSupabase) -> None:
    fake.confirm_email = True
    auth = SupabaseAuth(repo, sb_settings)
    with pytest.raises(ConfirmEmail, match="confirmation link"):
        auth.sign_up("ada@example.com", "a long password")
    with pytest.raises(AuthError, match="Confirm your email first"):
        auth.sign_in("ada@example.com", "a long password")
    with repo.tx(SYSTEM) as tx:
        assert tx.count_users() == 0  # nothing local until a real sign-in
    fake.users["ada@example.com"]["confirmed"] = True
    user = auth.sign_in("ada@example.com", "a long password")
    assert user.id == fake.users["ada@example.com"]["id"]


@pytest.mark.parametrize(("method", "path", "status", "body", "message"), [
    ("POST", "/auth/v1/token", 429,
     {"code": 429, "error_code": "over_request_rate_limit", "msg": "Request rate limit"},
     "Too many attempts"),
    ("POST", "/auth/v1/token", 500,
     {"code": 500, "error_code": "unexpected_failure", "msg": "Database error"},
     "unavailable right now"),
    ("POST", "/auth/v1/token", 503, "<html>upstream down</html>", "unavailable right now"),
    ("POST", "/auth/v1/token", 401,
     {"message": "Invalid API key", "hint": "Double check your Supabase key"}, "SUPABASE_KEY"),
])
def test_auth_errors_become_messages_for_a_person(repo: Repository, sb_settings: Settings,
                                                  fake: FakeSupabase, method, path, status,
                                                  body, message) -> None:
    fake.fail_next(method, path, status, body)
    with pytest.raises(AuthError, match=message):
        SupabaseAuth(repo, sb_settings).sign_in("ada@example.com", "a long password")


def test_wrong_password_weak_password_and_taken_email(repo: Repository, sb_settings: Settings,
                                                      fake: FakeSupabase) -> None:
    auth = SupabaseAuth(repo, sb_settings)
    auth.sign_up("ada@example.com", "a long password")
    with pytest.raises(AuthError, match="don't match"):
        SupabaseAuth(repo, sb_settings).sign_in("ada@example.com", "not the password")
    with pytest.raises(AuthError, match="stronger password"):
        SupabaseAuth(repo, sb_settings).sign_up("bob@example.com", "short1234")
    with pytest.raises(AuthError, match="exists already"):
        SupabaseAuth(repo, sb_settings).sign_up("ada@example.com", "a long password")
    with pytest.raises(AuthError, match="email and password"):
        SupabaseAuth(repo, sb_settings).sign_in("", "")


def test_an_older_local_account_with_the_same_email_is_not_taken_over(
        repo: Repository, sb_settings: Settings, fake: FakeSupabase) -> None:
    create_account(repo, sb_settings, "ada@example.com", password_hash=None)
    with pytest.raises(AuthError, match="already has a viewgen account"):
        SupabaseAuth(repo, sb_settings).sign_up("ada@example.com", "a long password")


# ---------------------------------------------------------------------- through the Studio
class _Generator:
    name = "stub"
    model = "stub-1"

    def generate(self, request: GenerationRequest) -> GeneratedImage:
        return GeneratedImage(data=b"\x89PNG " + request.view.value.encode(),
                              usage=CallUsage(provider="stub", model="stub-1", images=1))


class _Extractor:
    name = "stub"

    def extract(self, image: bytes):  # pragma: no cover - not reached here
        raise AssertionError


@pytest.fixture
def sb_studio(repo: Repository, sb_settings: Settings) -> Iterator[Any]:
    from viewgen.workflow import Studio

    studio = Studio(sb_settings, repo, build_blob_store(sb_settings), _Generator(),
                    _Extractor())
    yield studio
    studio.close()


def _rows(repo: Repository, table) -> int:
    with repo.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_front_view_lands_in_supabase_storage(sb_studio, member, fake: FakeSupabase) -> None:
    approval = sb_studio.start_front(member, text="a green lamp", seed=3)
    key = approval.key(ViewType.FRONT)
    assert approval.status == Status.FRONT_REVIEW
    assert key and key.startswith(f"{member.id}/{approval.id}/front-")
    assert fake.objects[("images", key)][0] == b"\x89PNG front"
    assert sb_studio.image_bytes(member, key) == b"\x89PNG front"
    url = sb_studio.blobs.url(key)
    assert "token=" in url and "http" in url  # minted, not stored:
    assert "token=" not in json.dumps(sb_studio.get(member, approval.id).model_dump(mode="json"))


def test_a_failed_upload_leaves_no_row_pointing_at_nothing(sb_studio, member, repo,
                                                           fake: FakeSupabase) -> None:
    before = sb_studio.balance(member)
    fake.fail_next("POST", "/storage/v1/object/images/", 503,
                   {"statusCode": "503", "error": "unavailable", "message": "try later"})
    with pytest.raises(StorageError, match="having trouble"):
        sb_studio.start_front(member, text="a green lamp", seed=3)
    [approval] = repo.list_approvals(member)
    assert approval.status == Status.FAILED
    assert approval.key(ViewType.FRONT) is None  # no row points at an image that isn't there
    assert "having trouble" in (approval.error or "")
    assert sb_studio.balance(member) == before  # the reservation was refunded
    assert fake.objects == {}
    with repo.engine.connect() as conn:
        outcome = conn.execute(select(t.generation_calls.c.outcome)).scalar_one()
    assert outcome == "StorageError"


def test_a_failed_database_write_removes_the_uploaded_image(sb_studio, member, repo,
                                                            fake: FakeSupabase,
                                                            monkeypatch) -> None:
    from viewgen.store import Tx

    def broken(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Tx, "set_view", broken)
    from viewgen.errors import ProviderError

    # the step fails inside its workflow; the caller gets a sentence, not the internals
    with pytest.raises(ProviderError, match="Could not save the new front view"):
        sb_studio.start_front(member, text="a green lamp", seed=3)
    [approval] = repo.list_approvals(member)
    assert approval.status == Status.FAILED and approval.key(ViewType.FRONT) is None
    uploads = fake.requests("POST", "/storage/v1/object/images/")
    removals = fake.requests("DELETE", "/storage/v1/object/images")
    assert len(uploads) == 1 and len(removals) == 1
    assert fake.objects == {}  # uploaded, then removed when the row could not be written
    assert _rows(repo, t.view_revision_history) == 0


# ---------------------------------------------------------------------- migrate-data
def test_migrate_data_into_supabase_storage_and_auth(fake: FakeSupabase, tmp_path) -> None:
    from viewgen.blobs import LocalBlobStore
    from viewgen.store import open_repository
    from viewgen.store.transfer import transfer

    source_url = f"sqlite:///{tmp_path / 'old.db'}"
    old = open_repository(source_url)
    ada = create_account(old, Settings(), "ada@example.com", password_hash=None)
    with old.tx(ada, write=True) as tx:
        project = tx.insert_project("lamp")
        approval = tx.insert_approval(project_id=project.id, input_type=InputType.TEXT,
                                      input_text="lamp", status=Status.INPUT, seed=1)
        key = f"{ada.id}/{approval.id}/front-1.png"
        tx.set_view(approval.id, ViewType.FRONT, key, "prompt")
    old.engine.dispose()
    local = LocalBlobStore(tmp_path / "blobs")
    local.put(key, b"\x89PNG lamp")
    settings = _settings(fake, tmp_path)
    target_url = f"sqlite:///{tmp_path / 'new.db'}"
    report = transfer(source_url, target_url, source_blobs=local,
                      target_blobs=SupabaseBlobStore.from_settings(settings),
                      settings=settings, to_auth=True)
    assert report.images is not None and report.images.copied == 1
    assert fake.objects[("images", key)] == (b"\x89PNG lamp", "image/png")
    assert report.auth is not None and report.auth.copied == 1
    created = fake.users["ada@example.com"]
    assert created["id"] == ada.id and created["confirmed"]  # same id: rows stay hers
    again = transfer(source_url, target_url, source_blobs=local,
                     target_blobs=SupabaseBlobStore.from_settings(settings),
                     settings=settings, to_auth=True)
    assert (again.images.copied, again.images.skipped) == (0, 1)
    assert (again.auth.copied, again.auth.skipped) == (0, 1)


@pytest.mark.postgres
def test_the_environment_alone_puts_everything_on_supabase(
        fake: FakeSupabase, pg_repo: Repository, monkeypatch: pytest.MonkeyPatch,
        tmp_path) -> None:
    from viewgen.compose import build_studio
    from viewgen.store.postgres import PostgresRepository

    monkeypatch.setenv("VIEWGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIEWGEN_DATABASE_URL", str(pg_repo.engine.url.render_as_string(
        hide_password=False)))
    monkeypatch.setenv("SUPABASE_URL", fake.base_url)
    monkeypatch.setenv("SUPABASE_KEY", SERVICE_KEY)
    settings = Settings()
    studio = build_studio(settings)
    try:
        assert isinstance(studio.repo, PostgresRepository) and studio.repo.rls
        assert isinstance(studio.blobs, SupabaseBlobStore)
        auth = build_auth(studio.repo, settings)
        assert isinstance(auth, SupabaseAuth)
        user = auth.sign_up("ada@example.com", "a long password")
        assert studio.balance(user) == settings.starting_credits
        with studio.repo.tx(user) as tx:
            assert tx.conn.execute(text("SELECT current_user")).scalar() == "viewgen_admin"
    finally:
        studio.close()
        studio.repo.engine.dispose()


def test_each_browser_session_of_the_app_keeps_its_own_supabase_client(
        fake: FakeSupabase, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Two people signed in to one app process: neither acts as the other."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from viewgen.ui import state
    from viewgen.ui.services import _build

    monkeypatch.setenv("VIEWGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SUPABASE_URL", fake.base_url)
    monkeypatch.setenv("SUPABASE_KEY", SERVICE_KEY)
    app = str(Path(__file__).resolve().parents[2] / "app.py")
    sessions = {}
    try:
        for name in ("ada", "bob"):
            at = AppTest.from_file(app, default_timeout=60).run()
            at.text_input(key=state.W_SIGNUP_NAME).input(name.title())
            at.text_input(key=state.W_SIGNUP_EMAIL).input(f"{name}@example.com")
            at.text_input(key=state.W_SIGNUP_PASSWORD).input("a long password")
            at.text_input(key=state.W_SIGNUP_CONFIRM).input("a long password")
            at.button(key="sign_up_submit").click().run()
            assert not at.exception, [e.value for e in at.exception]
            sessions[name] = at
        ada_auth = sessions["ada"].session_state[state.AUTH]
        bob_auth = sessions["bob"].session_state[state.AUTH]
        assert isinstance(ada_auth, SupabaseAuth) and ada_auth is not bob_auth
        ada_id = sessions["ada"].session_state[state.USER].id
        bob_id = sessions["bob"].session_state[state.USER].id
        # Bob signed in last; Ada's session still speaks for Ada
        assert ada_auth.client.auth.get_user().user.id == ada_id
        assert bob_auth.client.auth.get_user().user.id == bob_id
        sessions["bob"].button(key="sign_out").click().run()
        assert fake.requests("POST", "/auth/v1/logout")  # Bob's Supabase session ended
        assert ada_auth.client.auth.get_user().user.id == ada_id
    finally:
        _build.clear()
