"""Adapter kinds (`exposes[].type`): one module per kind, each registered here. Serving reads
only these descriptors, so a new kind is one module and one entry below. Importing this
package is cheap (capgen reads its names): each kind imports its framework when it builds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from . import mcp, rest
from .kind import Adapter, AdapterKind, App

Kind = Literal["rest", "mcp"]
REGISTERED: tuple[AdapterKind[Kind, Any], ...] = (rest.KIND, mcp.KIND)  # the serving order
KINDS: Mapping[str, AdapterKind[Any, Any]] = {kind.kind: kind for kind in REGISTERED}


__all__ = ["KINDS", "REGISTERED", "Adapter", "AdapterKind", "App", "Kind"]
