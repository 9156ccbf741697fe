"""Composition: a ``Studio`` from settings, its parts chosen here and nowhere else.

The workflow does not know which database, blob store or providers it runs on; this
module opens the repository (SQLite, or PostgreSQL with Row Level Security), the blob
store (local folder or Supabase Storage) and the providers named by settings, builds
the Studio (which launches this process's durable executor) and, unless told not to,
reconciles what a crashed process left behind.
"""

from __future__ import annotations

from viewgen.blobs import build_blob_store
from viewgen.providers import build_extractor, build_generator
from viewgen.settings import Settings
from viewgen.store import Repository, open_repository
from viewgen.workflow import Studio


def build_studio(settings: Settings | None = None, *, reconcile: bool = True,
                 executor: str | None = None) -> Studio:
    """Everything from settings: database (migrated), blob store, providers, executor."""
    from viewgen.redact import install_log_redaction

    settings = settings or Settings()
    install_log_redaction()  # no key reaches a log line, ours or an SDK's
    repo = open_repo(settings)
    studio = Studio(settings, repo, build_blob_store(settings), build_generator(settings),
                    build_extractor(settings), executor=executor)
    if reconcile:
        studio.reconcile()
    return studio


def open_repo(settings: Settings) -> Repository:
    url = settings.resolved_database_url
    if url.startswith("postgresql"):
        try:
            from viewgen.store.postgres import open_postgres_repository
        except ImportError:
            return open_repository(url)
        return open_postgres_repository(url, settings)
    return open_repository(url)
