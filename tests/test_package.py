"""The package root is light: importing an inner module (``viewgen.errors``, what every
lower module needs) must not pull in the workflow, the providers or the store, and the
public names still resolve from the root."""

from __future__ import annotations

import subprocess
import sys


def test_importing_errors_does_not_import_the_workflow() -> None:
    code = ("import sys, viewgen.errors, viewgen.domain; "
            "heavy = [m for m in ('viewgen.workflow', 'viewgen.providers', 'viewgen.store', "
            "'dbos', 'streamlit') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == "[]"


def test_public_names_resolve_from_the_root() -> None:
    import viewgen

    for name in viewgen.__all__:
        assert getattr(viewgen, name) is not None
    assert viewgen.build_studio.__module__ == "viewgen.compose"
