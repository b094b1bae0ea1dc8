"""Environment variable names a spec declares (`binds[].keys.<VARIABLE>: <NAME>`).

Such a name is read by the service from its environment and written into what deploys it: a
key of compose.yaml, the Kubernetes Secret command, the README's shell commands. Only a
portable name (POSIX's: letters, digits and `_`, not starting with a digit) is all of those
safely; any other is a located error (E060) rather than text spliced into YAML or a shell.
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostics
from ..spec.parse import Spec

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def portable(name: str) -> bool:
    return ENV_NAME.fullmatch(name) is not None


def check_bind_names(spec: Spec, diagnostics: Diagnostics) -> None:
    """E060 at each environment variable name of a bind that is not portable (a bind with a
    `location` reads its keys from that file, not from the environment)."""
    for bind in spec.binds:
        if bind.location is not None:
            continue
        for variable, name in bind.keys.items():
            if not portable(name):
                diagnostics.error(
                    "E060",
                    f"bind {variable!r}: environment variable name {name!r} is not portable",
                    spec.locations.span((*bind.pointer, "keys", variable)),
                )
