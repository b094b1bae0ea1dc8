"""Where capgen keeps what it may reuse between runs: formatted sources, compiled templates.

`~/.cache/capgen` (or `$XDG_CACHE_HOME/capgen`, or `$CAPGEN_CACHE_DIR`); `CAPGEN_NO_CACHE=1`
turns every cache off. Nothing in it changes what capgen writes, only how fast.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path | None:
    if os.environ.get("CAPGEN_NO_CACHE"):
        return None
    base = (
        os.environ.get("CAPGEN_CACHE_DIR")
        or os.environ.get("XDG_CACHE_HOME")
        or str(Path.home() / ".cache")
    )
    return Path(base) / "capgen" / kind
