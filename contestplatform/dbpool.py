"""The check psycopg_pool runs on a pooled connection before handing it out.

When PostgreSQL drops connections (a restart, a failover,
``pg_terminate_backend``) it drops them all, and every idle connection in
the pool is dead. psycopg_pool waits a second, then two, between failed
checks of one request, so a request drawing dead connections one by one
would outlast the 3 s pool timeout and answer 503 although PostgreSQL is
back. So the first failed check checks every idle connection at once: the
dead ones are replaced together, and the request's next draw is a fresh
connection about a second later. The price is one empty round trip per
request while all is well.
"""

import psycopg
from psycopg_pool import ConnectionPool


def check_pooled_connection(conn: psycopg.Connection[object]) -> None:
    """Raise if ``conn`` is dead, after clearing the pool of its dead siblings."""
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        from django.db import connections

        pool = connections["default"].pool  # type: ignore[attr-defined]
        if pool is not None:
            pool.check()
        raise
