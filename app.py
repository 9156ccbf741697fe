"""viewgen's Streamlit entry point: ``streamlit run app.py``.

Page config, the services (built once per process, see ``viewgen.ui.services``) and
``st.navigation`` over ``pages/``: Generate and History for everyone signed in, Admin
only for admins; the root address opens Generate at ``/generate``. The sign-in gate
is ``viewgen.ui.guard``, which every page calls first, because Streamlit can run a
page from a deep link without running this file; here the navigation simply stays
hidden until someone signs in. Admin stays registered
(hidden) for members so that reaching ``/admin`` shows its refusal instead of silently
landing somewhere else.
"""

import streamlit as st

from viewgen.ui import guard, state

guard.page_setup()
guard.restore_session(guard.load_services())  # "stay signed in" after a reload
user = state.current_user()
admin = bool(user and user.is_admin)

generate = st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:",
                   url_path="generate")


def _start() -> None:
    # Streamlit serves the default page at "/" only, so a default Generate would make
    # /generate "Page not found"; the root opens Generate by its own address instead,
    # keeping the address's query (``/?product=…`` reopens that product)
    st.switch_page(generate, query_params=st.query_params.to_dict())


pages = [
    st.Page(_start, title="Start", url_path="start", default=True, visibility="hidden"),
    generate,
    st.Page("pages/history.py", title="History", icon=":material/history:", url_path="history"),
    st.Page("pages/batch.py", title="Batch", icon=":material/table_view:", url_path="batch"),
    st.Page("pages/admin.py", title="Admin", icon=":material/monitoring:", url_path="admin",
            visibility="visible" if admin else "hidden"),
]
navigation = st.navigation(pages, position="top" if user else "hidden")
wanted = state.get(state.NEXT_PAGE)
state.drop(state.NEXT_PAGE)
if user and wanted:  # back to the deep link that was opened before app.py ran
    st.switch_page(wanted)
navigation.run()
