"""Where the partitions of a job run: this process, or a Dask cluster.

Both executors offer the same two calls: ``call(fn, *args)`` runs one function
where the model runs (to learn the model's identity and width), and
``run(tasks)`` yields the result of each partition task as it completes.
On a cluster each partition is one task, submitted under a key naming the job
and the partition; the scheduler re-runs the task of a worker that is lost,
and since a partition is one file renamed into place, a task run twice leaves
its rows once.
"""

import asyncio
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_LOCAL_N = re.compile(r"local:(\d+)")

_INSTALL = (
    'pip install "sklearn_pos[distributed]" (Dask distributed and pyarrow) to '
    "run jobs on a cluster."
)


class LocalExecutor:
    """Partitions one after another in this process (the model loaded once)."""

    description = "this process"
    n_workers = 1
    spread_gpus = False
    decode_workers = None

    def call(self, fn, *args):
        return fn(*args)

    def run(self, fn, tasks):
        for task in tasks:
            yield fn(task)


class DaskExecutor:
    """One task per partition on a ``distributed.Client``."""

    def __init__(self, client, *, description, spread_gpus=False, decode_workers=None):
        self.client = client
        self.description = description
        self.spread_gpus = spread_gpus
        self.decode_workers = decode_workers

    @property
    def n_workers(self):
        return len(self.client.scheduler_info().get("workers", {})) or 1

    def call(self, fn, *args):
        return self.client.submit(fn, *args, pure=False).result()

    def run(self, fn, tasks):
        from distributed import as_completed

        futures = [
            self.client.submit(fn, task, key=task["key"], pure=False) for task in tasks
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            # On an error (or an interrupted caller) the other partitions stop:
            # those already written stay, and a rerun resumes from them.
            self.client.cancel([f for f in futures if not f.done()])


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"The scheduler needs Dask distributed: {_INSTALL}") from exc
    return distributed


def _connect_timeout():
    """Seconds to wait for a scheduler: Dask's ``distributed.comm.timeouts.connect``.

    Set it with ``dask.config.set`` or the environment variable
    ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT`` (e.g. ``10s``).
    """
    import dask
    from dask.utils import parse_timedelta

    return parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")


def _unreachable(address, exc, timeout):
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        reason = f"no answer within {timeout:g} s"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return (
        f"Cannot reach the Dask scheduler at {address} ({reason}). Check the "
        "address and that a scheduler runs there (dask scheduler; dask worker "
        "ADDRESS), or use --scheduler local:N. The wait is set by the Dask "
        "setting distributed.comm.timeouts.connect "
        "(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=60s)."
    )


def _probe_scheduler(address, timeout):
    """Check that a Dask scheduler answers at ``address`` within ``timeout`` s.

    ``distributed.Client`` waits without end for a server that accepts the
    connection and never answers, and fails with a raw error (a
    multi-exabyte allocation) on one that answers something else, e.g. HTTP.
    One identity request, with a deadline on the whole exchange, tells these
    apart from a scheduler first. It runs its own event loop in a thread, so
    it works under a running loop (Jupyter) too. Addresses other than TCP
    (TLS needs the cluster's security settings) are left to the client.
    """
    from distributed.comm import connect
    from distributed.comm.addressing import parse_address

    try:
        protocol = parse_address(address)[0]
    except ValueError as exc:
        raise ValueError(_unreachable(address, exc, timeout)) from None
    if protocol != "tcp":
        return

    async def identity():
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    def ask():
        return asyncio.run(asyncio.wait_for(identity(), timeout))

    with ThreadPoolExecutor(1) as pool:
        try:
            answer = pool.submit(ask).result()
        except Exception as exc:  # noqa: BLE001 - any failure is the address's
            if isinstance(exc, MemoryError):
                exc = ValueError("the answer is not the Dask protocol")
            raise ValueError(_unreachable(address, exc, timeout)) from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        raise ValueError(
            _unreachable(
                address,
                ValueError(f"not a Dask scheduler; it answered {answer!r:.80}"),
                timeout,
            )
        )


@contextmanager
def open_executor(scheduler):
    """The executor of ``scheduler`` (see :func:`~sklearn_pos.embed_collection`)."""
    if scheduler is None or scheduler == "local":
        yield LocalExecutor()
        return
    if not isinstance(scheduler, str):
        if hasattr(scheduler, "submit") and hasattr(scheduler, "scheduler_info"):
            yield DaskExecutor(scheduler, description=f"the cluster {scheduler}")
            return
        raise TypeError(
            "scheduler must be None, 'local', 'local:N', a scheduler address such "
            f"as 'tcp://host:8786', or a distributed.Client; got "
            f"{type(scheduler).__name__}."
        )
    match = _LOCAL_N.fullmatch(scheduler)
    if match:
        n = int(match[1])
        if n < 1:
            raise ValueError(f"scheduler={scheduler!r}: local:N needs N >= 1.")
        distributed = _import_distributed()
        import dask

        cpus = os.cpu_count() or 1
        threads = max(1, cpus // n)
        # Worker processes are not daemonic, so that they may start the
        # DataLoader's image-decoding processes; each worker's torch gets its
        # share of the cores (one task at a time per worker, the model's
        # threads inside it).
        env = {
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "OPENBLAS_NUM_THREADS": str(threads),
        }
        with dask.config.set({"distributed.worker.daemon": False}):
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=env,
                silence_logs=logging.WARNING,
            )
        try:
            with distributed.Client(cluster) as client:
                yield DaskExecutor(
                    client,
                    description=f"a local cluster of {n} worker process"
                    + ("es" if n > 1 else ""),
                    spread_gpus=True,
                    decode_workers=max(0, min(4, threads - 1)),
                )
        finally:
            cluster.close()
        return
    if "://" in scheduler or re.fullmatch(r"[\w.-]+:\d+", scheduler):
        distributed = _import_distributed()
        timeout = _connect_timeout()
        _probe_scheduler(scheduler, timeout)
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - any failure is the address's
            raise ValueError(_unreachable(scheduler, exc, timeout)) from None
        with client:
            yield DaskExecutor(client, description=f"the cluster at {scheduler}")
        return
    raise ValueError(
        f"scheduler={scheduler!r} is not understood: use 'local' (this process), "
        "'local:N' (a local Dask cluster of N worker processes) or a scheduler "
        "address such as 'tcp://host:8786'."
    )
