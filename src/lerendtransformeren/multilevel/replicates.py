"""Running many independent replicates: seeds, progress bar, serial or parallel execution.

The machinery shared by the simulations that refit a model many times:
:func:`~lerendtransformeren.multilevel.simulation.power_simulation` (simulated studies) and
:func:`~lerendtransformeren.multilevel.bootstrap.bootstrap_icc_r2` (parametric-bootstrap
samples of a fitted model). It knows nothing of models; a caller hands it a picklable
set-up, a chunk function and one ``SeedSequence`` per replicate.

Reproducibility: replicate ``i`` draws from its own stream, child ``i`` of the root
``SeedSequence`` (:func:`children`), and a chunk runs with one BLAS thread
(:func:`single_thread`), so the numbers are identical serially, with local processes
(``n_jobs``) and on a Dask cluster (``client``), whatever the chunking.

Local processes are forked on Linux (:func:`fork_available`): they inherit the loaded
modules and the set-up, so they start in milliseconds instead of importing numpy, scipy,
pandas and this package afresh (about as long as hundreds of small refits); elsewhere they
are joblib's loky processes.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np

from lerendtransformeren.display import progress_bar as _display_bar
from lerendtransformeren.exceptions import SpecificationError

__all__ = ["seed_sequence", "children", "interactive", "progress_bar", "single_thread", "check_n_jobs",
           "run_chunks", "fork_available", "USE_FORK"]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def seed_sequence(seed: Any) -> tuple[np.random.SeedSequence, Any]:
    """The root SeedSequence and the value to report as ``.seed`` (enough to reproduce).

    ``seed`` is a non-negative integer, a ``SeedSequence`` (used as it is), a ``Generator``
    (one integer is drawn from it) or ``None`` (fresh entropy, reported).
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed, seed
    if seed is None or isinstance(seed, np.random.Generator):
        entropy = (np.random.SeedSequence().entropy if seed is None
                   else int(seed.integers(0, 2**63 - 1)))
        return np.random.SeedSequence(entropy), entropy
    if _is_int(seed) and seed >= 0:
        return np.random.SeedSequence(int(seed)), int(seed)
    raise SpecificationError(
        f"seed must be a non-negative integer, a numpy SeedSequence or Generator, or None; got {seed!r}."
    )


def children(seq: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """``seq.spawn(n)`` as from a fresh SeedSequence, without changing ``seq``."""
    return [np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (i,), pool_size=seq.pool_size)
            for i in range(n)]


def interactive() -> bool:
    """In a Jupyter/IPython session or at a terminal."""
    ipython = sys.modules.get("IPython")
    if ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None:
        return True
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def progress_bar(progress: bool | None, total: int, desc: str, unit: str = "sim"):
    """A tqdm bar, or None. ``progress=None``: shown when :func:`interactive`.

    :func:`lerendtransformeren.display.progress_bar`: a widget in a kernel with ipywidgets,
    else the console bar; pass ``progress=False`` in notebooks checked by nbval.
    """
    if progress is None:
        progress = interactive()
    if not progress:
        return None
    return _display_bar(total, desc=desc, unit=unit)


def single_thread():
    """One BLAS thread: fast small algebra, and the same numbers in every process."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1)


def check_n_jobs(n_jobs: Any) -> None:
    """A SpecificationError unless ``n_jobs`` is a non-zero whole number."""
    if not _is_int(n_jobs) or n_jobs == 0:
        raise SpecificationError(
            f"n_jobs must be a non-zero whole number (1 serial, 2 two processes, -1 all cores), got {n_jobs!r}."
        )


def run_chunks(run: Callable[[Any, Sequence[int], Sequence[np.random.SeedSequence]], list],
               setup: Any, seqs: list[np.random.SeedSequence], n_jobs: int, client, pbar) -> list:
    """All replicates, serially, with joblib (loky) or on a Dask cluster, in chunks.

    Parameters
    ----------
    run : callable
        ``run(setup, indices, seqs)`` -> one record per replicate of the chunk; a
        module-level function (it is pickled for the workers).
    setup : picklable
        What every replicate needs (arrays, no patsy objects).
    seqs : list of SeedSequence
        One per replicate, in replicate order.
    n_jobs : int
        1: serial; otherwise local processes (-1: all cores): forked on Linux
        (:func:`fork_available`), joblib's loky processes elsewhere.
    client : distributed.Client or None
        Run on this Dask cluster (all its workers); ``n_jobs`` is then ignored.
    pbar : tqdm or None
        Updated after every chunk.

    Returns
    -------
    list
        The records of all chunks, in chunk order (replicate order).
    """
    n = len(seqs)
    if client is not None:
        if not callable(getattr(client, "nthreads", None)):
            raise SpecificationError(
                f"client must be a dask distributed.Client, got {type(client).__name__}; leave it out "
                "to run on this machine with n_jobs."
            )
        workers = max(1, sum(client.nthreads().values()))
    elif n_jobs == 1:
        workers = 1
    else:
        from joblib import effective_n_jobs

        workers = effective_n_jobs(n_jobs)
    # several chunks per worker balance the load; a chunk amortises the task overhead
    size = max(1, min(50 if workers > 1 else 25, math.ceil(n / (4 * workers if workers > 1 else 20))))
    tasks = [(c, [seqs[i] for i in c]) for c in (range(a, min(a + size, n)) for a in range(0, n, size))]
    if client is None and workers == 1:
        return _collect((run(setup, c, s) for c, s in tasks), pbar)
    if client is None and fork_available():
        return _collect(_forked(run, setup, tasks, workers), pbar)
    from joblib import Parallel, delayed, parallel_config

    context = parallel_config(backend="dask", client=client) if client is not None else nullcontext()
    with context:
        parallel = Parallel(n_jobs=-1 if client is not None else n_jobs, batch_size=1, return_as="generator")
        return _collect(parallel(delayed(run)(setup, c, s) for c, s in tasks), pbar)


#: Local workers are forked where the platform allows it safely (Linux, Python 3.11): they
#: start with every module of the parent loaded, in milliseconds, where a fresh interpreter
#: (joblib's loky, macOS and Windows) first imports numpy, scipy, pandas and this package.
#: From Python 3.12 on, forking a process that runs threads (BLAS thread pools count) is
#: deprecated and warns, so loky is used there. False: always loky.
USE_FORK = True


def fork_available() -> bool:
    """Whether :func:`run_chunks` forks its local workers (Linux, Python < 3.12, ``USE_FORK``)."""
    import multiprocessing

    return (USE_FORK and sys.platform.startswith("linux") and sys.version_info < (3, 12)
            and "fork" in multiprocessing.get_all_start_methods())


_WORKER: tuple = ()


def _init_worker(run, setup) -> None:
    global _WORKER
    _WORKER = (run, setup)


def _worker_chunk(indices, seqs) -> list:
    run, setup = _WORKER
    return run(setup, indices, seqs)


def _forked(run, setup, tasks, workers: int):
    """The chunks' records, in order, from ``workers`` forked processes.

    ``run`` and ``setup`` reach the workers through the fork (not pickled); each task sends
    its replicate indices and seeds only.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context,
                             initializer=_init_worker, initargs=(run, setup)) as pool:
        futures = [pool.submit(_worker_chunk, list(c), s) for c, s in tasks]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _collect(parts, pbar) -> list:
    records: list = []
    for part in parts:
        records.extend(part)
        if pbar is not None:
            pbar.update(len(part))
    return records
