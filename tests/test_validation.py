"""Named errors for text no store can hold, unknown views and keys outside a user's prefix."""

from __future__ import annotations

import pytest

from viewgen.domain import ViewType
from viewgen.errors import InvalidInput
from viewgen.validation import clean_text, key_belongs_to, parse_view


def test_clean_text_strips_and_keeps_unicode() -> None:
    assert clean_text("  Sac à dos 🎒 bleu  ", what="description", max_chars=50) == \
        "Sac à dos 🎒 bleu"
    assert clean_text("   ", what="feedback", max_chars=50) is None
    assert clean_text(None, what="feedback", max_chars=50) is None


def test_nul_byte_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"description contains a NUL character"):
        clean_text("red\x00bag", what="description", max_chars=100)


def test_lone_surrogate_is_named_with_its_position() -> None:
    with pytest.raises(InvalidInput, match=r"feedback contains a broken character "
                                           r"\(U\+D83D at position 5"):
        clean_text("make\ud83d blue", what="feedback", max_chars=100)


def test_over_the_limit_says_how_long() -> None:
    with pytest.raises(InvalidInput, match=r"description is 2,001 characters long; "
                                           r"the limit is 2,000"):
        clean_text("x" * 2001, what="description", max_chars=2000)
    assert clean_text("x" * 2000, what="description", max_chars=2000) == "x" * 2000


def test_required_and_wrong_type() -> None:
    with pytest.raises(InvalidInput, match="description is empty"):
        clean_text(" \n", what="description", max_chars=10, required=True)
    with pytest.raises(InvalidInput, match="must be text"):
        clean_text(b"bytes", what="description", max_chars=10)  # type: ignore[arg-type]


def test_clean_text_output_is_storable_utf8() -> None:
    text = clean_text("ok é 🎒", what="x", max_chars=10)
    assert text is not None
    text.encode("utf-8")  # would raise for a surrogate


def test_parse_view() -> None:
    assert parse_view("Back ") is ViewType.BACK
    assert parse_view(ViewType.TOP) is ViewType.TOP
    with pytest.raises(InvalidInput) as info:
        parse_view("frnt")
    assert str(info.value) == ("Unknown view 'frnt': choose front, back, side, top, bottom or hero.")
    with pytest.raises(InvalidInput, match=r"Unknown view 'x{39}…'"):
        parse_view("x" * 100)
    with pytest.raises(InvalidInput, match="Unknown view 'ab'"):
        parse_view("a\x00b\ud800")


@pytest.mark.parametrize(("key", "user", "ok"), [
    ("u1/a1/front-1.png", "u1", True),
    ("u1/a1/ref.png", "u1", True),
    ("u2/a1/front-1.png", "u1", False),
    ("u1x/a1/front-1.png", "u1", False),   # prefix must end at a slash
    ("u1", "u1", False),
    ("u1/", "u1", False),
    ("u1/../u2/a/front-1.png", "u1", False),
    ("u1//x.png", "u1", False),
    ("/u1/a/x.png", "u1", False),
    ("u1/a\\..\\x.png", "u1", False),
    (None, "u1", False),
    ("u1/a/x.png", "", False),
    ("../x/a.png", "..", False),
])
def test_key_belongs_to(key, user, ok) -> None:
    assert key_belongs_to(key, user) is ok


def test_output_dir_checks_without_creating(tmp_path) -> None:
    from viewgen.validation import output_dir

    new = tmp_path / "a" / "b"
    assert output_dir(new, files=["front.png"]) == new
    assert not (tmp_path / "a").exists()  # checked, not made
    assert list(tmp_path.iterdir()) == []  # the probe file is gone
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidInput, match="is an existing file"):
        output_dir(tmp_path / "f")
    with pytest.raises(InvalidInput, match=r"cannot be created: .* is a file"):
        output_dir(tmp_path / "f" / "sub")
