"""viewgen.ui.qa with AppTest: a failed view shows its reasons as plain text and a
"Try again, free" button that calls the page's callback; a passed view offers none;
the product's headline; an unchanged retry is announced as not charged."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from viewgen.domain import ViewType
from viewgen.quality import ChangeResult, Check, ProductQA, QAResult

TRICKY = "**bold** <b>tag</b> [link](http://x)"


def failed_back(reason: str = "It shows black where the side shows red.") -> dict[str, Any]:
    checks = [Check(name="product_found", passed=True, score=100, reason="A product is in the picture."),
              Check(name="agreement", passed=False, score=0, reason=reason)]
    result = QAResult(view=ViewType.BACK, passed=False, score=0, checks=checks, reasons=[reason])
    return result.model_dump(mode="json")


def passed_side() -> dict[str, Any]:
    checks = [Check(name="shape", passed=True, score=100, reason="Its proportions agree.")]
    return QAResult(view=ViewType.SIDE, passed=True, score=100, checks=checks).model_dump(mode="json")


def panel(result: dict | None, product: dict | None = None, change: dict | None = None) -> None:
    import streamlit as st

    from viewgen.ui import qa

    st.session_state.setdefault("retries", 0)

    def retry() -> None:
        st.session_state["retries"] += 1

    pressed = qa.view_verdict(result, key="back", on_retry=retry)
    st.session_state["pressed"] = pressed
    qa.product_verdict(product)
    qa.change_notice(change)


def run(*args: Any) -> AppTest:
    at = AppTest.from_function(panel, args=args, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def badges(at: AppTest) -> list[str]:
    """st.badge is drawn as Markdown's ``:colour-badge[...]`` directive."""
    return [m.value for m in at.markdown if "-badge[" in m.value]


def test_a_failed_view_shows_its_reasons_and_a_free_retry_that_calls_back() -> None:
    at = run(failed_back())
    assert "It shows black where the side shows red." in texts(at)
    assert any(b.startswith(":orange-badge") and "needs attention" in b for b in badges(at))
    buttons = [b for b in at.button if b.label == "Try again, free"]
    assert len(buttons) == 1
    assert at.session_state["retries"] == 0
    buttons[0].click().run()
    assert at.session_state["retries"] == 1
    assert at.session_state["pressed"] is True
    at.run()  # a plain rerun does not press it again
    assert at.session_state["retries"] == 1


def test_a_passed_view_offers_no_retry() -> None:
    at = run(passed_side())
    assert not [b for b in at.button if b.label == "Try again, free"]
    assert any(b.startswith(":green-badge") and "passed (1 check)" in b for b in badges(at))
    assert texts(at) == []


def test_a_pending_view_says_so() -> None:
    at = run(None)
    assert any("pending" in b for b in badges(at))
    assert not at.button


def test_reasons_are_plain_text_never_markdown() -> None:
    at = run(failed_back(TRICKY))
    assert TRICKY in texts(at)
    assert all(TRICKY not in m.value for m in at.markdown)


def test_the_product_headline_and_an_unchanged_retry() -> None:
    back = QAResult.model_validate(failed_back())
    product = ProductQA(passed=False, score=0, headline="1 of 5 views need attention: back.",
                        views={ViewType.BACK: back},
                        reasons=["Back: It shows black where the side shows red."])
    change = ChangeResult(unchanged=True, changed_share=0.0, mean_delta_e=0.0, followed=False,
                          passed=False, reason="The new image is the same as the one it replaces: the "
                          "feedback could not be applied, so it is not charged.")
    at = run(failed_back(), product.model_dump(mode="json"), change.model_dump(mode="json"))
    assert at.warning and at.warning[0].value == "Not all views agree yet."
    assert "1 of 5 views need attention: back." in texts(at)
    assert at.info and "not charged" in at.info[0].value
    assert change.reason in texts(at)
    good = ProductQA(passed=True, score=100, headline="Five consistent views.", views={})
    at = run(passed_side(), good.model_dump(mode="json"))
    assert at.success and at.success[0].value == "Five consistent views."
