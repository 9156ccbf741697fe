"""The UI layer's glue: what the Streamlit pages share, and no business logic.

``app.py``, ``pages/`` and this package are the UI layer; they are the only code that
imports streamlit. ``state`` declares every session-state key, ``services`` builds the
Studio and the accounts backend once per process, ``guard`` is the first call of every
page (signed in; admin for Admin), and ``components`` draws the pieces several pages
use (step indicator, images, features, consistency, the sidebar).
"""
