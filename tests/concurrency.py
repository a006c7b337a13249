"""Run functions at the same moment in threads, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection, connections


def run_concurrently(*functions: Callable[[], object]) -> list[object]:
    """Start every function together (a barrier) and return each one's result or raised exception."""
    if connection.vendor != "postgresql":
        raise AssertionError("concurrency tests need the PostgreSQL peer (SQLite serialises every write)")
    barrier = threading.Barrier(len(functions))
    outcomes: list[object] = [None] * len(functions)

    def run(index: int, function: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = function()
        except BaseException as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
