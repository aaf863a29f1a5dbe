"""Where heavy per-item work runs: in this process by default, or on Dask when asked.

Shared by every national-scale computation (map reconciliation today, the risk
model's features and predictions next) so they all take the same two options:

* ``--scheduler tcp://host:8786``: a running Dask cluster (``dask scheduler`` plus
  ``dask worker`` processes, see docs/deployment.md);
* ``--workers N``: a throw-away ``LocalCluster`` of N processes on this machine.

Neither given means no Dask at all: the work runs in this process exactly as
before, so a field laptop never starts a cluster. The store is read once by the
caller; only the per-item inputs travel to the workers (reading a GeoPackage or
PostGIS from every worker would multiply the I/O and needs the store reachable
from every worker), and small shared inputs are broadcast once, not per task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from safeground.errors import Param, SafeGroundError

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")
U = TypeVar("U")


@contextmanager
def client_for(
    scheduler: str | None = None, workers: int | None = None, *, processes: bool = True
) -> Iterator[Client | None]:
    """A Dask client for the chosen place of work, closed (and its local cluster stopped) on exit.

    Yields None when neither ``scheduler`` nor ``workers`` is given: run in this process.
    ``processes=False`` runs a local cluster's workers as threads of this process (tests, notebooks).
    """
    if scheduler and workers:
        raise SafeGroundError(f"give either {Param('scheduler')} or {Param('workers')}, not both")
    if not scheduler and not workers:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise SafeGroundError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                hint="start it with 'dask scheduler' and check the address and port (default 8786)",
            ) from exc
        with client:
            yield client
        return
    assert workers is not None
    if workers < 1:
        raise SafeGroundError(f"{Param('workers')} must be at least 1, not {workers}")
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # any free port: never collide with another cluster
            silence_logs=40,  # logging.ERROR: a field officer's terminal is not a log viewer
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def partitions(items: Sequence[T], n: int) -> list[list[T]]:
    """``items`` cut into at most ``n`` contiguous, nearly equal parts, order kept."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out: list[list[T]] = []
    start = 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return [p for p in out if p]


def map_partitions(
    func: Callable[..., list[U]],
    items: Sequence[T],
    *,
    client: Client | None,
    per_worker: int = 4,
    **shared: Any,
) -> list[U]:
    """``func(part, **shared)`` on contiguous parts of ``items``; the results concatenated in order.

    Without a client, ``func`` runs once on all items in this process. With one,
    the items are cut into ``per_worker`` parts per worker thread (enough to even
    out uneven parts) and ``shared`` is scattered once to every worker. ``func``
    must be importable by the workers (a module-level function of the installed
    package), and must not depend on the partitioning: same item, same answer.
    """
    if client is None:
        return list(func(list(items), **shared)) if items else []
    if not items:
        return []
    threads = sum(client.nthreads().values()) or 1
    parts = partitions(items, threads * per_worker)
    # one-element list: scatter would otherwise split a dict or list value into separate futures
    shared_futures = {k: client.scatter([v], broadcast=True)[0] for k, v in shared.items()}
    futures = client.map(func, parts, pure=False, **shared_futures)
    out: list[U] = []
    for chunk in client.gather(futures):
        out.extend(chunk)
    return out


@contextmanager
def imports_out_of_collections() -> Iterator[None]:
    """Keep the objects alive now (what importing the stack made: modules, classes, functions) out of the
    garbage collector's walks while the block runs, and give them back at its end (``gc.freeze``/``unfreeze``).

    :func:`release_memory` collects garbage between a report's phases; a full collection walks every tracked
    object, and the 200,000 an import of the stack makes cost 0.1–0.2 s per walk, about ten walks per national
    report. They are never garbage while a report is made; unfreezing at the end means a long-lived process (a
    server, the tests' in-process command line) keeps no garbage for good."""
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def release_memory() -> None:
    """Give the memory freed by a finished phase back to the operating system (glibc's ``malloc_trim``).

    A national report reads a country's buildings, then simulates thousands of areas, then hashes every layer:
    freed blocks stay in the process's heap, so without this each phase's peak stacks on the memory the
    previous one no longer uses. Costs a few milliseconds; does nothing where the C library has no
    ``malloc_trim`` (macOS, musl)."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM: Any = None
