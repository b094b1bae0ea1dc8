"""`[tool.capgen]` in pyproject.toml, so CI and humans run the same thing.

[tool.capgen]
out = "generated"                 # where packages go
specs = ["specs"]                 # what `capgen build` builds with no arguments
strict = false

[tool.capgen.packages]            # import names, per spec file name
"workers-ai-ai-inference.yaml" = "workers_ai"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import click


@dataclass(frozen=True)
class Config:
    out: Path = Path("generated")
    specs: tuple[Path, ...] = ()
    strict: bool = False
    packages: dict[str, str] = field(default_factory=dict)

    def module_for(self, spec: Path) -> str | None:
        return self.packages.get(spec.name)


def load_config(directory: Path | None = None) -> Config:
    path = (directory or Path.cwd()) / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"cannot read {path}: {exc}") from None
    section = data.get("tool", {}).get("capgen", {})
    if not isinstance(section, dict):
        raise click.UsageError(f"{path}: [tool.capgen] must be a table")
    try:
        return Config(
            out=Path(section.get("out", "generated")),
            specs=tuple(Path(p) for p in section.get("specs", [])),
            strict=bool(section.get("strict", False)),
            packages={str(k): str(v) for k, v in section.get("packages", {}).items()},
        )
    except (TypeError, AttributeError) as exc:
        raise click.UsageError(f"{path}: invalid [tool.capgen]: {exc}") from None
