"""capgen's run-time library: what every generated service imports.

Generated packages call `require` when they are imported, so a runtime of the wrong version
fails at once with a message that says which one is needed and how to install it.
"""

from __future__ import annotations

import re

__version__ = "0.1.0"

DISTRIBUTION = "capgen-runtime"


class RuntimeVersionError(ImportError):
    """The installed runtime is not one the generated package was built for."""


def compatible_version(version: str = __version__) -> str:
    """The ``X.Y`` a package generated with `version` needs: X.Y.* at any patch level."""
    return "{}.{}".format(*_minor(version))


def compatible_range(compatible: str | None = None) -> str:
    """The pip range of a compatible runtime: ``>=X.Y,<X.(Y+1)``."""
    major, minor = _minor(compatible or compatible_version())
    return f">={major}.{minor},<{major}.{minor + 1}"


def require(package: str, compatible: str) -> None:
    """Fail unless this runtime is `compatible` (``"X.Y"``): X.Y.* at any patch level.

    `package` names the generated package, for the message.
    """
    if _minor(__version__) != _minor(compatible):
        raise RuntimeVersionError(
            f"{package} was generated for {DISTRIBUTION} {compatible}.x, but {__version__} is "
            f"installed: pip install '{DISTRIBUTION}{compatible_range(compatible)}' "
            f"(or rebuild the package with a capgen {compatible_version()})"
        )


def _minor(version: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        raise RuntimeVersionError(f"unreadable {DISTRIBUTION} version {version!r}")
    return int(match.group(1)), int(match.group(2))


__all__ = [
    "DISTRIBUTION",
    "RuntimeVersionError",
    "__version__",
    "compatible_range",
    "compatible_version",
    "require",
]
