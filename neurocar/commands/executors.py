"""Where the runs of a sweep execute: local worker processes by default, or a Ray cluster (`neurocar[ray]`).

A sweep's runs are independent pure functions of (config, seed), so an executor needs only three things: start a
function on each task, hand back results as they finish, and cancel what has not started. `LocalExecutor` uses
worker processes started fresh (`spawn`, so nothing of the parent's state leaks into a run) with one torch thread
each; `RayExecutor` sends the same function to a Ray cluster and imports ray only when it is used.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from neurocar.errors import NeuroCarError

RAY_MISSING = 'the Ray executor needs the ray extra: pip install "neurocar[ray]"'


class Executor(Protocol):
    """Runs `function(task)` for every task somewhere and yields (task index, result) as each run finishes."""

    def run(self, function: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[int, Any]]:
        """Start every task (as workers allow) and yield (index, result) in the order they finish."""
        ...

    def cancel(self) -> None:
        """Drop the tasks that have not started; the running ones finish (or stop on their own Ctrl-C)."""
        ...


def worker_setup() -> None:
    """In each worker process: one torch thread (the workers are the parallelism), and Ctrl-C ignored between
    runs; a run turns it back on while it trains, so Ctrl-C stops and saves it."""
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # a function that needs no torch
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalExecutor:
    """Worker processes on this machine (`workers` at once)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def run(self, function: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[int, Any]]:
        """Start the tasks on the worker processes and yield results as they finish."""
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            max_workers=min(self.workers, max(1, len(tasks))), mp_context=context, initializer=worker_setup
        )
        try:
            futures: dict[Future, int] = {self._pool.submit(function, task): index for index, task in enumerate(tasks)}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=futures.__getitem__):
                    if not future.cancelled():
                        yield futures[future], future.result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def cancel(self) -> None:
        """Drop the tasks not yet started."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class RayExecutor:
    """The tasks as Ray remote calls on a cluster (`address`: "auto" for the cluster this machine belongs to, a
    `ray://host:port` address, or None for a local Ray started on the spot)."""

    def __init__(self, address: str | None = None, cpus_per_run: float = 1.0) -> None:
        try:
            import ray
        except ImportError:
            raise NeuroCarError(RAY_MISSING) from None
        self.ray = ray
        self.address = address
        self.cpus_per_run = cpus_per_run
        self._pending: list[Any] = []

    def run(self, function: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[int, Any]]:
        """Submit every task as a remote call and yield results as they finish."""
        ray = self.ray
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        remote = ray.remote(num_cpus=self.cpus_per_run)(_in_ray_worker(function))
        references = [remote.remote(task) for task in tasks]
        index_of = {reference: index for index, reference in enumerate(references)}
        self._pending = list(references)
        while self._pending:
            finished, self._pending = ray.wait(self._pending, num_returns=1)
            for reference in finished:
                yield index_of[reference], ray.get(reference)

    def cancel(self) -> None:
        """Cancel the remote calls that have not finished."""
        for reference in self._pending:
            self.ray.cancel(reference)
        self._pending = []


class _in_ray_worker:  # noqa: N801 - used like a function decorator
    """Wraps the function so each Ray worker uses one torch thread too."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def __call__(self, task: Any) -> Any:
        worker_setup()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return self.function(task)
