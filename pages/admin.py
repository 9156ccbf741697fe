"""Admin: what people made, what it cost and how the providers behaved (admins only).

Headline metrics, Altair charts and filterable tables (approvals, revision history,
revisions, the credit ledger, provider calls) from ``viewgen.analytics``, which
aggregates in SQL and pages the tables; thumbnails where rows have images; a CSV of
each whole filtered table; and granting credits. Tabs run lazily, so only the open
tab's queries run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from viewgen import Status, analytics, csvsafe
from viewgen.analytics import Filters
from viewgen.ui import components, guard, state
from viewgen.ui.queue_panel import queue_panel

user, svc = guard.require_admin("Admin", page="pages/admin.py")
queries = svc.studio.analytics
PAGE_SIZE = 50
OUTCOME_COLOURS = alt.Scale(domain=["complete", "in progress", "failed"],
                            range=["#4f46e5", "#a5b4fc", "#ef4444"])


# ---------------------------------------------------------------------- data


@st.cache_data(ttl=60, show_spinner=False)
def charts_data(database: str, filters: Filters, _queries, _admin) -> dict[str, pd.DataFrame]:
    """The chart queries, cached for a minute per database and filter (Refresh clears)."""
    activity = _queries.provider_activity(_admin, filters)
    return {
        "per_day": _queries.generations_per_day(_admin, filters),
        "per_user": _queries.credits_per_user(_admin, filters),
        "per_view": _queries.rejections_per_view(_admin, filters),
        "providers": analytics.summarise_providers(activity),
        "latency": analytics.latency_by_day(activity),
        "qa": _queries.qa_failure_rates(_admin, filters),
    }


def refresh() -> None:
    charts_data.clear()


def filter_bar() -> Filters:
    people, error = components.attempt(queries.users, user)
    if error:
        st.error(error)
        st.stop()
    emails = dict(zip(people["user_id"], people["email"], strict=True))
    today = datetime.now(UTC).date()
    who, dates, button = st.columns([2, 2, 1], vertical_alignment="bottom")
    chosen = who.selectbox("User", [None, *emails], key=state.W_ADMIN_USER,
                           format_func=lambda uid: "Everyone" if uid is None else emails[uid])
    if state.W_ADMIN_DATES not in st.session_state:
        st.session_state[state.W_ADMIN_DATES] = (today - timedelta(days=89), today)
    picked = dates.date_input("Dates (UTC)", key=state.W_ADMIN_DATES, max_value=today,
                              format="YYYY-MM-DD")
    button.button("Refresh data", on_click=refresh, icon=":material/refresh:",
                  key="admin_refresh", width="stretch")
    start = end = None
    if isinstance(picked, tuple | list):
        start = picked[0] if len(picked) > 0 else None
        end = picked[1] if len(picked) > 1 else None
    elif isinstance(picked, date):
        start = end = picked
    return Filters(user_id=chosen, start=start, end=end)


# ---------------------------------------------------------------------- metrics


def headline(filters: Filters) -> None:
    h, error = components.attempt(queries.headline, user, filters)
    if h is None:
        st.error(error)
        return
    first = f"{h.first_try_rate:.0%}" if h.first_try_rate is not None else "—"
    rejections = f"{h.mean_rejections:.2f}" if h.mean_rejections is not None else "—"
    latency = f"{h.mean_latency_ms / 1000:.2f} s" if h.mean_latency_ms is not None else "—"
    failed_share = f"{h.failed_calls / h.calls:.1%} of {h.calls:,}" if h.calls else None
    row1 = st.columns(4)
    row1[0].metric("Products", f"{h.products:,}", border=True,
                   help="Products started in the date range.")
    row1[1].metric("Approved on first try", first, border=True,
                   help=f"{h.first_try_approvals:,} of {h.approved:,} approved fronts had no "
                        "rejection before approval.")
    row1[2].metric("Rejections per approval", rejections, border=True,
                   help="Mean number of rejected fronts per approved product.")
    row1[3].metric("Complete products", f"{h.complete:,}", border=True)
    row2 = st.columns(4)
    row2[0].metric("Credits granted", f"{h.credits_granted:,}", border=True)
    row2[1].metric("Credits spent", f"{h.credits_spent:,}", border=True,
                   help="Committed: images people received. Refunds are not counted.")
    row2[2].metric("Failed provider calls", f"{h.failed_calls:,}", border=True,
                   help=failed_share)
    row2[3].metric("Mean provider latency", latency, border=True)


# ---------------------------------------------------------------------- charts


def charts(filters: Filters) -> None:
    data, error = components.attempt(charts_data, queries.cache_key, filters,
                                     queries, user)
    if data is None:
        st.error(error)
        return
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("##### Products per day")
        chart_or_empty(data["per_day"], lambda df: alt.Chart(df).mark_bar().encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("sum(products):Q", title="Products", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("outcome:N", scale=OUTCOME_COLOURS, title=None,
                            legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("day:T", format="%d %b %Y"), "outcome:N", "products:Q"],
        ))
    with right:
        st.markdown("##### Credits spent per user (top 15)")
        chart_or_empty(data["per_user"], lambda df: alt.Chart(df).mark_bar(
            color="#4f46e5").encode(
            x=alt.X("spent:Q", title="Credits spent"),
            y=alt.Y("user:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
            tooltip=["user:N", "spent:Q", "granted:Q"],
        ))
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("##### Rejections and regenerations per view")
        chart_or_empty(data["per_view"], lambda df: alt.Chart(df).mark_bar().encode(
            x=alt.X("view:N", sort=["front", "back", "side", "top", "bottom"], title=None,
                    axis=alt.Axis(labelAngle=0)),
            xOffset="reason:N",
            y=alt.Y("count:Q", title="Images", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("reason:N", title=None, legend=alt.Legend(orient="top"),
                            scale=alt.Scale(domain=["rejected", "replaced"],
                                            range=["#f59e0b", "#4f46e5"])),
            tooltip=["view:N", "reason:N", "count:Q"],
        ))
    with right:
        st.markdown("##### Latency and failures per provider")
        providers = data["providers"].copy()
        if not providers.empty:
            providers["call"] = providers["provider"] + " · " + providers["kind"]
            providers["mean_latency_s"] = providers["mean_latency_ms"] / 1000
        chart_or_empty(providers, lambda df: alt.Chart(df).mark_bar(color="#4f46e5").encode(
            x=alt.X("mean_latency_s:Q", title="Mean latency (s)"),
            y=alt.Y("call:N", title=None, axis=alt.Axis(labelLimit=220)),
            tooltip=["provider:N", "kind:N", "calls:Q", "failures:Q",
                     alt.Tooltip("failure_rate:Q", format=".1%"),
                     alt.Tooltip("mean_latency_ms:Q", format=",.0f"),
                     alt.Tooltip("max_latency_ms:Q", format=",.0f")],
        ), height=180)
        if not providers.empty:
            st.dataframe(
                providers[["provider", "kind", "calls", "failures", "failure_rate",
                           "mean_latency_ms", "max_latency_ms"]],
                hide_index=True, width="stretch",
                column_config={
                    "failure_rate": st.column_config.NumberColumn("failure rate",
                                                                  format="percent"),
                    "mean_latency_ms": st.column_config.NumberColumn("mean ms", format="%.0f"),
                    "max_latency_ms": st.column_config.NumberColumn("max ms", format="%.0f"),
                })
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("##### Mean provider latency per day")
        # points as well as lines: one day of data is one point, which a line cannot draw
        chart_or_empty(data["latency"], lambda df: alt.Chart(df).mark_line(point=True).encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("mean_latency_ms:Q", title="Mean latency (ms)"),
            color=alt.Color("provider:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("day:T", format="%d %b %Y"), "provider:N", "calls:Q",
                     alt.Tooltip("mean_latency_ms:Q", format=",.0f")],
        ), height=220)
    with right:
        st.markdown("##### Failed provider calls per day")
        failures = data["latency"]
        chart_or_empty(failures[failures["failures"] > 0] if not failures.empty else failures,
                       lambda df: alt.Chart(df).mark_bar().encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("sum(failures):Q", title="Failed calls", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("provider:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("day:T", format="%d %b %Y"), "provider:N", "failures:Q",
                     "calls:Q"],
        ), height=220)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("##### Images the quality check failed, per view and provider")
        chart_or_empty(data["qa"], lambda df: alt.Chart(df).mark_bar().encode(
            x=alt.X("view:N", sort=["front", "back", "side", "top", "bottom"], title=None,
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y("failure_rate:Q", title="Failed the check", axis=alt.Axis(format="%")),
            color=alt.Color("provider:N", title=None, legend=alt.Legend(orient="top")),
            xOffset="provider:N",
            tooltip=["provider:N", "view:N", "checked:Q", "failed:Q",
                     alt.Tooltip("failure_rate:Q", format=".1%"), "not_charged:Q",
                     alt.Tooltip("failed_cost_usd:Q", format="$.3f")],
        ), height=220)
    with right:
        st.markdown("##### Features corrected before the views")
        corrections, error = components.attempt(svc.studio.feature_corrections, user, filters)
        if corrections is None:
            st.caption(error or "No data for these filters.")
        elif not corrections.approved:
            st.caption("No data for these filters.")
        else:
            st.metric("Approved products whose features were corrected",
                      f"{corrections.share:.0%}",
                      help=f"{corrections.corrected:,} of {corrections.approved:,}")
            st.dataframe(corrections.by_field, hide_index=True, width="stretch")


def chart_or_empty(frame: pd.DataFrame, build, height: int = 260) -> None:
    if frame is None or frame.empty:
        st.caption("No data for these filters.")
        return
    st.altair_chart(build(frame).properties(height=height), width="stretch")


# ---------------------------------------------------------------------- tables

COMMON = {
    "created": st.column_config.DatetimeColumn("when (UTC)", format="YYYY-MM-DD HH:mm"),
    "image": st.column_config.ImageColumn("image", width="small"),
    "approval_id": st.column_config.TextColumn("approval", width="small"),
    "user": st.column_config.TextColumn("user", width="medium"),
}


def table(name: str, fetch, filters: Filters, config: dict, **options) -> None:
    """One paginated table with thumbnails, and a CSV of the whole filtered table."""
    page_key = state.W_ADMIN_PAGE + name
    st.session_state.setdefault(page_key, 1)
    page = int(st.session_state[page_key] or 1)
    result, error = components.attempt(fetch, user, filters, limit=PAGE_SIZE,
                                       offset=(page - 1) * PAGE_SIZE, **options)
    if result is not None and page > result.pages:
        st.session_state[page_key] = page = 1
        result, error = components.attempt(fetch, user, filters, limit=PAGE_SIZE,
                                           offset=0, **options)
    if result is None:
        st.error(error)
        return
    frame = result.frame
    if "image_key" in frame:
        frame.insert(0, "image", components.thumbnails(svc, user, frame.pop("image_key"),
                                                       size=96))
    if result.total == 0:
        st.info("No rows match these filters.", icon=":material/filter_alt_off:")
        return
    st.dataframe(frame, hide_index=True, width="stretch",
                 height=420 if len(frame) > 7 else "auto",
                 column_config={**COMMON, **config}, row_height=48 if "image" in frame else None)
    pager, info, csv = st.columns([1, 2, 1.3], vertical_alignment="center")
    pager.number_input("Page", min_value=1, max_value=result.pages, step=1, key=page_key)
    info.caption(f"Rows {result.first:,}–{result.last:,} of {result.total:,}")
    limit = analytics.CSV_MAX_ROWS
    csv.download_button(
        "Download CSV", on_click="ignore", icon=":material/download:", key=f"csv_{name}",
        data=lambda: csvsafe.neutralise_csv(queries.table_csv(user, name, filters,
                                                                 **options)),
        file_name=f"viewgen-{name.replace('_', '-')}.csv", mime="text/csv", width="stretch",
        help=f"The whole filtered table{f' (first {limit:,} rows)' if result.total > limit else ''}.",
    )


def approvals_tab(filters: Filters) -> None:
    statuses = st.multiselect("Status", [s.value for s in Status], key=state.W_ADMIN_STATUS,
                              format_func=lambda v: v.replace("_", " "),
                              placeholder="All statuses")
    table("approvals", queries.approvals, filters, {
        "description": st.column_config.TextColumn("description", width="medium"),
        "product": None,
        "approved": st.column_config.DatetimeColumn("approved", format="YYYY-MM-DD HH:mm"),
        "rejections": st.column_config.NumberColumn("rejections", width="small"),
        "views": st.column_config.ProgressColumn("views", min_value=0, max_value=5,
                                                 format="%d/5", width="small"),
    }, statuses=tuple(statuses))


def history_tab(filters: Filters) -> None:
    reasons = st.multiselect("Kind", list(analytics.HISTORY_REASONS), key=state.W_ADMIN_REASONS,
                             placeholder="Rejected and replaced")
    table("revision_history", queries.revision_history, filters, {
        "feedback": st.column_config.TextColumn("feedback", width="large"),
    }, reasons=tuple(reasons))


def revisions_tab(filters: Filters) -> None:
    table("revisions", queries.revisions, filters, {
        "revision": st.column_config.NumberColumn("#", width="small"),
        "prompt": st.column_config.TextColumn("prompt", width="medium"),
        "modifications": st.column_config.TextColumn("feedback", width="medium"),
    })


def ledger_tab(filters: Filters) -> None:
    states = st.multiselect("State", list(analytics.LEDGER_STATES), key=state.W_ADMIN_STATES,
                            placeholder="All states")
    table("ledger", queries.ledger, filters, {
        "credits": st.column_config.NumberColumn("credits", format="%+d"),
    }, states=tuple(states))


def calls_tab(filters: Filters) -> None:
    outcome = st.segmented_control("Outcome", ["ok", "failed"], key=state.W_ADMIN_OUTCOME,
                                   format_func=lambda v: {"ok": "Succeeded",
                                                          "failed": "Failed"}[v])
    table("calls", queries.calls, filters, {
        "latency_ms": st.column_config.NumberColumn("latency", format="%.0f ms"),
        "cost_usd": st.column_config.NumberColumn("cost", format="$%.4f"),
        "error": st.column_config.TextColumn("error", width="medium"),
    }, outcome=outcome)


def grant(emails: dict[str, str]) -> None:
    target = state.get(state.W_GRANT_USER)
    amount = state.get(state.W_GRANT_AMOUNT)
    reason = state.get(state.W_GRANT_REASON) or "admin grant"
    balance, error = components.attempt(queries.grant_credits, user, target,
                                        int(amount or 0), reason)
    if error:
        state.flash("error", error)
        return
    state.flash("success", f"Granted {int(amount):,} credits to "
                           f"{components.plain(emails.get(target, target))}; "
                           f"their balance is now {balance:,}.")
    refresh()


def users_tab() -> None:
    people, error = components.attempt(queries.users, user)
    if people is None:
        st.error(error)
        return
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.dataframe(people, hide_index=True, width="stretch", height=420,
                     column_order=["email", "balance", "spent", "products", "role", "name",
                                   "created"],
                     column_config={
                         "created": st.column_config.DatetimeColumn("joined",
                                                                    format="YYYY-MM-DD"),
                         "balance": st.column_config.NumberColumn("balance"),
                     })
        st.download_button("Download CSV", on_click="ignore", icon=":material/download:",
                           key="csv_users", file_name="viewgen-users.csv", mime="text/csv",
                           data=lambda: csvsafe.frame_to_csv(people.drop(columns=["user_id"])))
    with right:
        st.markdown("#### Grant credits")
        emails = dict(zip(people["user_id"], people["email"], strict=True))
        balances = dict(zip(people["user_id"], people["balance"], strict=True))
        # the options are emails only: a label holding the balance would go stale in the
        # browser after a grant; the balance is read afresh below on every run
        chosen = st.selectbox("User", list(emails), key=state.W_GRANT_USER,
                              format_func=lambda uid: emails[uid])
        if chosen in balances:
            st.caption(f"Balance now: **{components.credits_label(int(balances[chosen]))}**")
        with st.form("grant_form", border=False):
            st.number_input("Credits", min_value=1, max_value=100_000, value=20, step=5,
                            key=state.W_GRANT_AMOUNT)
            st.text_input("Reason", value="admin grant", max_chars=64,
                          key=state.W_GRANT_REASON)
            st.form_submit_button("Grant credits", type="primary", on_click=grant,
                                  args=(emails,), key="grant_submit",
                                  icon=":material/add_card:")


# ---------------------------------------------------------------------- the page

st.html("""<style>
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 1.75rem; }
</style>""")
st.title("Admin")
filters = filter_bar()
headline(filters)
tabs = st.tabs(["Charts", "Approvals", "Revision history", "Revisions", "Credit ledger",
                "Provider calls", "Users & credits", "Queues"], key=state.W_ADMIN_TAB,
               on_change="rerun", bind="query-params")
drawers = [lambda: charts(filters), lambda: approvals_tab(filters),
           lambda: history_tab(filters), lambda: revisions_tab(filters),
           lambda: ledger_tab(filters), lambda: calls_tab(filters), users_tab,
           lambda: queue_panel(svc, user)]
for tab, draw in zip(tabs, drawers, strict=True):
    if tab.open:
        with tab:
            draw()
