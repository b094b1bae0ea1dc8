"""Which MCP tools a build generates: `tools`, `exclude_tools` and `read_only_tools` in a spec's
`[tool.capgen.options]`. A big spec costs a model what its server lists; the service can
narrow it further at run time (`<PREFIX>_MCP_TOOLS`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI reads the options before anything is built
    from ..ir import model as ir


@dataclass(frozen=True)
class ToolSelection:
    include: tuple[str, ...] = ()  # name patterns; empty: every tool
    exclude: tuple[str, ...] = ()
    read_only: bool = False  # only tools whose hints say read-only

    @property
    def everything(self) -> bool:
        return not (self.include or self.exclude or self.read_only)

    def keeps(self, tool: ir.Tool) -> bool:
        from capgen_runtime.model import chosen

        if not chosen(tool.name, self.include, self.exclude):
            return False
        return not self.read_only or bool((tool.annotations or {}).get("read_only_hint"))
