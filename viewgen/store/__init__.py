"""Persistence: the schema, its migrations, engines and the user-scoped Repository."""

from viewgen.store.engine import make_engine
from viewgen.store.repository import SYSTEM, Repository, Tx

__all__ = ["SYSTEM", "Repository", "Tx", "make_engine", "open_repository"]


def open_repository(url: str) -> Repository:
    """An engine for ``url`` with every migration applied."""
    repo = Repository(make_engine(url))
    repo.migrate()
    return repo
