"""The local blob store: keys, atomic writes, and keys that try to escape."""

from __future__ import annotations

from pathlib import Path

import pytest

from viewgen.blobs import LocalBlobStore, check_key, image_key
from viewgen.errors import InvalidInput, NotFound


def test_put_get_delete_roundtrip(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    key = image_key("user-1", "approval-1", "front", 1)
    assert key == "user-1/approval-1/front-1.png"
    store.put(key, b"\x89PNG data")
    assert store.exists(key)
    assert store.get(key) == b"\x89PNG data"
    assert store.url(key) is None
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.get(key)
    assert not list((tmp_path / "blobs").rglob(".tmp-*"))


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "/abs/path.png", "a/../../b.png", "a\\b.png", "single", "a/./b.png",
     "a/b/../../../x.png", "a/\x00b.png", "a/.hidden.png", ""],
)
def test_escaping_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(InvalidInput):
        store.put(key, b"x")
    with pytest.raises(InvalidInput):
        check_key(key)
    assert not (tmp_path / "etc").exists()


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "user").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInput):
        store.put("user/approval/front-1.png", b"x")
    assert list(outside.iterdir()) == []
