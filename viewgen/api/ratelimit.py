"""The HTTP API's per-token rate limit, kept in the database so every API process shares it.

``VIEWGEN_API_RATE_PER_MINUTE`` requests a minute per API token (or Supabase user), with
that many in a burst: a token bucket, kept as GCRA (the generic cell rate algorithm) in
one row of ``api_rate_limits`` per key. The row holds ``tat``, the time at which the
bucket would be full again were no more requests made; a request is allowed when ``tat``
is at most the burst ahead of now, and moves it one interval on. That test and the move
are a single conditional ``UPDATE``, atomic on SQLite (the write transaction holds the
database's write lock) and on PostgreSQL (the row lock), so two uvicorn workers or two
API servers on one database cannot both spend the last request of a minute. It runs in
the transaction that looks the token up (``guard.Authenticator``), so the limit costs
no extra transaction; on PostgreSQL that transaction commits without waiting for its
WAL flush (``synchronous_commit`` off for it alone), as a counter lost in a crash
costs nothing. Clocks: each process uses its own ``time.time()``; servers sharing a
database are assumed to be NTP-synchronised (a skew of ``s`` seconds shifts a limit by
``s`` seconds' worth of requests, never more).
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from viewgen.api.errors import RateLimited
from viewgen.store import schema as t

_RELAXED_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


class RateLimiter:
    """``per_minute`` requests a minute per key, as a burst too (0: no limit)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def relax_commit(self, conn: Connection) -> None:
        """On PostgreSQL: this transaction's commit need not wait for the disk."""
        if conn.dialect.name == "postgresql":
            conn.execute(_RELAXED_COMMIT)

    def take(self, conn: Connection, key: str, *, now: float | None = None) -> float | None:
        """Spend one request of ``key``'s budget in the caller's write transaction.

        Returns None when allowed, else the seconds until the next request would be
        (nothing is spent then). Raises nothing, so the caller decides what a refusal
        rolls back.
        """
        if not self.enabled:
            return None
        now = time.time() if now is None else now
        interval = 60.0 / self.per_minute
        burst = (self.per_minute - 1) * interval  # how far ahead ``tat`` may be
        r = t.api_rate_limits
        later = func.greatest if conn.dialect.name == "postgresql" else func.max
        for _ in range(2):  # the first time a key is seen, its row is made, then spent
            moved = conn.execute(
                r.update().where(r.c.key == key, r.c.tat <= now + burst)
                .values(tat=later(r.c.tat, now) + interval))
            if moved.rowcount == 1:
                return None
            tat = conn.execute(select(r.c.tat).where(r.c.key == key)).scalar()
            if tat is not None:
                return max(tat - burst - now, 0.001)
            insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)
            conn.execute(insert(r).values(key=key, tat=now)  # a full bucket
                         .on_conflict_do_nothing(index_elements=[r.c.key]))
        raise RuntimeError(f"the rate limit row of {key} vanished while it was spent")

    def refusal(self, retry_after_s: float) -> RateLimited:
        return RateLimited(
            f"Too many requests: this token may make {self.per_minute} a minute. "
            "Wait for the time in Retry-After, then try again.",
            retry_after_s=retry_after_s,
        )
