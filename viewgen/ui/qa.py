"""Streamlit pieces that show the QA gate's verdicts (``viewgen.quality``).

``view_verdict`` draws one view's result: a badge, the failing checks' reasons and a
"Try again, free" button that calls the callback the page passes in; ``product_verdict``
draws the product's headline ("Five consistent views." only when every check passed);
``change_notice`` tells a person that a retry changed nothing and was not charged;
``estimated_label`` marks a view the offline renderer estimated from one photo.
Each accepts the pydantic result or the JSON stored from it (``model_dump``). Reasons
are drawn as plain text (``st.text``), never as Markdown, since they may quote words
from a request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from viewgen.quality import ChangeResult, ProductQA, QAResult

RETRY_LABEL = "Try again, free"
ESTIMATED_LABEL = "Estimated from one photo"
Result = QAResult | Mapping[str, Any]


def _qa(result: Result | None) -> QAResult | None:
    if result is None or isinstance(result, QAResult):
        return result
    return QAResult.model_validate(dict(result))


def view_verdict(result: Result | None, *, key: str, on_retry: Callable[[], Any] | None = None,
                 retry_label: str = RETRY_LABEL) -> bool:
    """One view's QA verdict. A failed view lists its reasons and, when ``on_retry`` is
    given, offers "Try again, free"; returns True when that button was pressed (after
    calling ``on_retry``)."""
    qa = _qa(result)
    if qa is None:
        st.badge("Quality check: pending", icon=":material/hourglass_top:", color="gray")
        return False
    if qa.passed:
        n = len(qa.checks)
        st.badge(f"Quality check passed ({n} check{'' if n == 1 else 's'})", icon=":material/check_circle:",
                 color="green")
    else:
        st.badge("Quality check: needs attention", icon=":material/warning:", color="orange")
        for reason in qa.reasons:
            st.text(reason)
    if qa.confidence == "low" and qa.confidence_note:
        st.text(qa.confidence_note)
    if qa.passed or on_retry is None:
        return False
    if st.button(retry_label, key=f"qa-retry-{key}", icon=":material/refresh:",
                 help="Generate this view again. It is not charged: the quality check failed."):
        on_retry()
        return True
    return False


def product_verdict(product: ProductQA | Mapping[str, Any] | None) -> bool:
    """The product's headline; True when it passed."""
    if product is None:
        return False
    qa = product if isinstance(product, ProductQA) else ProductQA.model_validate(dict(product))
    if qa.passed:
        st.success(qa.headline, icon=":material/check_circle:")
    else:
        st.warning("Not all views agree yet.", icon=":material/warning:")
        st.text(qa.headline)
        for reason in qa.reasons:
            st.text(reason)
    return qa.passed


def change_notice(change: ChangeResult | Mapping[str, Any] | None) -> None:
    """Say when a retry or regeneration changed nothing (it was refunded) or did not
    follow the feedback; nothing when it did."""
    if change is None:
        return
    qa = change if isinstance(change, ChangeResult) else ChangeResult.model_validate(dict(change))
    if qa.unchanged:
        st.info("Nothing changed, so this was not charged.", icon=":material/money_off:")
        st.text(qa.reason)
    elif qa.followed is False:
        st.warning("The new image may not follow your feedback.", icon=":material/warning:")
        st.text(qa.reason)


def estimated_label() -> None:
    """Under a view built from a single photo: its hidden sides are a guess."""
    st.caption(f":material/photo_camera: {ESTIMATED_LABEL}",
               help="Only the front was photographed: this side is built from the "
                    "photo's outline and colours, not seen. Check it by eye.")
