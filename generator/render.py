"""The Jinja environment and its few filters: Python literals, docstrings, comments."""

from __future__ import annotations

import json
import re
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from . import ahead
from .cache import cache_dir
from .sources import templates_dir
from .targets.files import FileSpec


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return _environment(_bytecode_cache() or (_Received() if ahead.active() else None))


def compile_templates() -> dict[str, bytes]:
    """Every template's bytecode by its key (in the helper process)."""
    captured = _Captured()
    env = _environment(captured)
    for name in env.list_templates():
        env.get_template(name)
    return captured.buckets


class _Captured(jinja2.BytecodeCache):
    """Keeps what is compiled."""

    def __init__(self) -> None:
        self.buckets: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        return None

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.buckets[bucket.key] = bucket.bytecode_to_string()


class _Received(jinja2.BytecodeCache):
    """What the helper compiled; Jinja rejects a template's bytecode if its source changed."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = ahead.bytecode().get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        return None


def _environment(bytecode_cache: jinja2.BytecodeCache | None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        bytecode_cache=bytecode_cache,
    )
    env.filters["py"] = py_literal
    env.filters["docstring"] = docstring
    env.filters["comment"] = comment
    env.filters["inline"] = inline
    env.filters["toml"] = toml_string
    env.filters["yaml"] = toml_string  # a JSON string is a YAML double-quoted scalar too
    env.filters["md"] = markdown
    env.filters["md_code"] = markdown_code
    env.filters["html_comment"] = html_comment
    env.filters["counted"] = counted
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates, keyed by their source: a build skips compiling them again."""
    directory = cache_dir("jinja")
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(directory))


def render(file: FileSpec) -> str:
    if file.template is None:
        assert file.source is not None
        return Path(file.source).read_text(encoding="utf-8")
    return environment().get_template(file.template).render(**file.context)


def counted(number: int, noun: str) -> str:
    """`1 operation`, `2 operations`: a count with its noun (English `-s` plural)."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def py_literal(value: Any) -> str:
    """A Python expression for plain data (str, numbers, bools, None, lists, tuples, dicts)."""
    if isinstance(value, str):
        return quoted(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


@lru_cache(maxsize=65536)  # a module repeats the same names and paths many times
def quoted(text: str) -> str:
    """A string literal in black's quotes: double unless that needs more escaping."""
    literal = repr(text)
    if literal.startswith('"'):
        return literal  # the text holds ' and no "
    if text.count('"') > text.count("'"):
        return literal  # double quotes would need more backslashes
    body = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
    return f'"{body}"'


@lru_cache(maxsize=8192)  # a description reappears in the client, the service and adapters
def docstring(text: str | None, indent: int = 0, width: int = 88) -> str:
    """Text safe inside a triple-quoted docstring, wrapped to `width` at `indent` spaces."""
    if not text:
        return ""
    safe = _in_docstring(text).strip()
    prefix = " " * indent
    room = max(width - indent, 40)
    wrapped = [_fill(" ".join(p.split()), room, prefix) for p in safe.split("\n\n")]
    joined = f"\n\n{prefix}".join(wrapped)
    return joined + " " if joined.endswith('"') else joined  # `""""` would end the docstring


def _fill(paragraph: str, width: int, prefix: str) -> str:
    if len(paragraph) <= width:  # one line: what textwrap would make of it
        return paragraph
    return textwrap.fill(
        paragraph,
        width=width,
        subsequent_indent=prefix,
        break_on_hyphens=False,
        break_long_words=False,  # URLs stay whole
    )


def inline(text: object) -> str:
    """Spec text on one line inside a docstring (namespaces, URLs, bind keys and locations)."""
    safe = " ".join(_in_docstring(str(text)).split())
    return safe + " " if safe.endswith('"') else safe


def comment(text: str | None) -> str:
    """Text safe on one comment line."""
    return " ".join(_visible(text or "").split())


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")
_LINE_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")


def markdown(text: object) -> str:
    """Spec text as inline Markdown on one line: nothing in it opens a block (heading, list,
    quote, fence, table, HTML), a link, an image or inline HTML; it reads as written."""
    line = _MARKDOWN_SPECIAL.sub(r"\\\1", comment(str(text)))
    return _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line)


def markdown_code(text: object, table: bool = False) -> str:
    """Spec text as a Markdown code span on one line (in a table cell, `|` escaped as GFM
    requires)."""
    line = comment(str(text))
    if table:
        line = line.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", line)), default=0) + 1)
    if not line or line[0] in "` " or line[-1] in "` ":
        line = f" {line} "
    return f"{fence}{line}{fence}"


def html_comment(text: str) -> str:
    """Text safe inside an HTML comment on one line: nothing in it ends the comment."""
    return re.sub(r"--(!?)>", r"--\1&gt;", comment(text))


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's; DEL and lone surrogates, which TOML
    cannot hold, become an escape and U+FFFD."""
    scalar = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return json.dumps(scalar, ensure_ascii=False).replace("\x7f", "\\u007f")


def _in_docstring(text: str) -> str:
    return _visible(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _visible(text: str) -> str:
    """Characters that are not printable (controls, line and paragraph separators, format
    characters such as bidi overrides, lone surrogates) as visible ``\\xNN`` escapes; a line
    break and a tab stay. Source text then has the lines Python's tokenizer sees, no NUL, and
    always encodes as UTF-8."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in "\n\t" else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    )
