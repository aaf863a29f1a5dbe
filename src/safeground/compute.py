"""Where heavy per-item work runs: in this process by default, or on Dask when asked.

Shared by every national-scale computation (map reconciliation today, the risk
model's features and predictions next) so they all take the same two options:

* ``--scheduler tcp://host:8786``: a running Dask cluster (``dask scheduler`` plus
  ``dask worker`` processes, see docs/deployment.md);
* ``--workers N``: a throw-away ``LocalCluster`` of N processes on this machine.

Neither given means no Dask at all, so a field laptop never starts a cluster: the
work runs on this machine, in this process, except the batches of independent items
that are worth splitting (the record assessments of ``maps accuracy``, the national
report and the accuracy dashboard), which go to a few local processes, one per core
(``SAFEGROUND_PROCESSES``, see :func:`local_processes`; ``1`` keeps them here too). The store is read once by the
caller; only the per-item inputs travel to the workers (reading a GeoPackage or
PostGIS from every worker would multiply the I/O and needs the store reachable
from every worker), and small shared inputs are broadcast once, not per task.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

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


#: Environment variable: how many local processes a batch may use (1: all in this process).
PROCESSES_ENV = "SAFEGROUND_PROCESSES"


def local_processes() -> int:
    """How many processes a batch of independent items may use on this machine.

    ``SAFEGROUND_PROCESSES`` when set (1 keeps every batch in this process: a small field laptop, or a server
    that already runs a worker per core), else the cores this process may run on. The record assessments are
    pure Python on small arrays, held by the GIL: threads would take turns, processes run side by side."""
    raw = os.environ.get(PROCESSES_ENV, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise SafeGroundError(
                f"{PROCESSES_ENV} must be a whole number of processes, 1 or more, not {raw!r}",
                hint=f"unset it to use every core, or set {PROCESSES_ENV}=1 to work in this process only",
            )
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class LocalBatch(Generic[U]):
    """A batch started with :func:`start_local`: ``result()`` waits for it and gives the results in order.

    Started before other work, it runs beside it (the national report assesses its records while it counts
    casualties and simulates land release)."""

    def __init__(self, run_here: Callable[[], list[U]] | None, futures: list[Future], pool: Any) -> None:
        self._run_here = run_here
        self._futures = futures
        self._pool = pool
        self.processes = pool._max_workers if pool is not None else 1

    def result(self, progress: Callable[[int], None] | None = None) -> list[U]:
        """The results in order; ``progress(done)`` hears how many are done after each part."""
        if self._run_here is not None:
            run, self._run_here = self._run_here, None
            return run()
        from concurrent.futures.process import BrokenProcessPool

        try:
            out: list[U] = []
            for f in self._futures:
                out.extend(f.result())
                if progress:
                    progress(len(out))
            return out
        except BrokenProcessPool as exc:
            raise SafeGroundError(
                f"a worker process stopped before its part of the batch was done: {exc}",
                hint=f"the machine may be short of memory; set {PROCESSES_ENV}=1 to work in this process only",
            ) from exc
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def start_local(
    func: Callable[..., list[U]],
    items: Sequence[T],
    *,
    processes: int | None = None,
    min_per_process: int = 4,
    parts_per_process: int = 3,
    **shared: Any,
) -> LocalBatch[U]:
    """``func(part, **shared)`` on contiguous parts of ``items`` in local processes; results concatenated in order.

    ``func`` must be a module-level function that does not depend on the partitioning (same item, same answer),
    so the results are those of one call on all items. With fewer than ``min_per_process`` items for a second
    process, or one process allowed, nothing is started and ``func`` runs here when the result is asked for.
    The processes are forked (``_process_context``): each costs a fork, not an interpreter start and the imports.
    A worker's exception is raised here by ``result()``."""
    n = min(processes or local_processes(), len(items) // max(min_per_process, 1))
    if n <= 1:
        return LocalBatch(lambda: list(func(list(items), **shared)) if items else [], [], None)
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=n, mp_context=_process_context(func.__module__))
    parts = partitions(items, n * parts_per_process)  # a few parts per process even out uneven items
    return LocalBatch(None, [pool.submit(func, part, **shared) for part in parts], pool)


def _process_context(module: str) -> Any:
    """How the batch's processes start: forked from this process when it runs no other thread (the command
    line: instant, nothing imported again, the memory shared until written), else from a fork server.

    Forking a process whose other threads may hold a lock (a web server's request threads) can leave the child
    waiting on it for ever; the fork server is a clean process that imports ``module`` once, and every worker is
    forked from it. It is not ``spawn``, which would start and import everything again for each worker (and run
    the command line's script again: 1–2 s each on a small machine)."""
    import multiprocessing
    import sys
    import threading

    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    # read when the server first starts, later calls change nothing. ``__main__`` too: a worker of the fork server
    # would otherwise run the main script again (``safeground serve``'s script imports the whole command line),
    # each worker; the server runs it once (as multiprocessing does, only what is not under its __name__ guard)
    ctx.set_forkserver_preload(["__main__", module])
    return ctx


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
