"""The UI layer is app.py, pages/ and viewgen/ui/: nothing else imports streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

from ui_helpers import ROOT


def _imports_streamlit(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(name == "streamlit" or name.startswith("streamlit.") for name in names):
            return True
    return False


def test_only_the_ui_layer_imports_streamlit() -> None:
    package = ROOT / "viewgen"
    offenders = [
        str(path.relative_to(ROOT)) for path in package.rglob("*.py")
        if not path.is_relative_to(package / "ui") and _imports_streamlit(path)
    ]
    assert offenders == []
    assert _imports_streamlit(ROOT / "app.py")
    assert all(_imports_streamlit(page) for page in (ROOT / "pages").glob("*.py"))


def test_every_page_guards_itself_first() -> None:
    for page in sorted((ROOT / "pages").glob("*.py")):
        tree = ast.parse(page.read_text(encoding="utf-8"))
        body = [n for n in tree.body if not isinstance(n, ast.Import | ast.ImportFrom)
                and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        first = ast.unparse(body[0])
        assert "guard.require_" in first, (page.name, first)
