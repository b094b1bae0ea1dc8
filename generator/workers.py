"""Worker processes, for formatting large packages and for building several specs at once.

Forking is the cheap way to start them (the child shares the imports and caches already
warm), but it is only safe in a single-threaded process: inside a threaded host (the corpus
harness, a test runner, an editor) a forked child can inherit a lock another thread held and
die or hang, so there the workers are spawned instead.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

from .cores import available_cores

MAX_WORKERS = 4


def default_workers() -> int:
    """One per core, up to MAX_WORKERS; none in a process that is itself a worker, so nested
    work (formatting inside a multi-spec build) never oversubscribes the cores."""
    if multiprocessing.parent_process() is not None:
        return 1
    return min(available_cores(), MAX_WORKERS)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(_start_method())
    )


def _start_method() -> str:
    return "fork" if os.name == "posix" and threading.active_count() == 1 else "spawn"
