"""Lay out generated data statements the way black will, so black only has to confirm them.

Templates write descriptors (``X = Operation(...)``, ``TOOLS = (Tool(...), ...)``) as flat
expressions. black formats a file a second time whenever its first pass changed anything, so
on a package of thousands of operations a single line out of its layout doubles the cost.
Before black runs, `prelayout` rewrites the statements whose value is plain data (calls,
tuples, lists, dicts, names, attributes, literals) in assignments, ``return`` statements and
``from . import`` lines into black's layout: a line that fits stays whole; otherwise the last
bracket is split, collection literals and bodies that do not fit are exploded one item per
line with a trailing comma, and magic trailing commas are kept.

This is only a head start: black still formats the result, so capgen's output is black's
output whatever this module does. Anything outside that subset (comments, implicit string
concatenation, string prefixes, numbers black respells...) is left to black as written.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Callable, Iterator

LINE_LENGTH = 100
INDENT = "    "
_PLAIN_STRING = re.compile(r"""^(?:'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")$""")
_PLAIN_NUMBER = re.compile(r"^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$")
_IGNORED = re.compile(r"[\s,'\"\\]")
# CPython 3.11 and 3.12 keep the AST converter's recursion counter in shared state: two threads
# parsing at once can fail with "SystemError: AST constructor recursion depth mismatch".
_PARSE_LOCK = threading.Lock()


class _Unsupported(Exception):
    """The statement is outside the subset laid out here; black gets it as written."""


def prelayout(source: str, width: Callable[[str], int], quotes: Callable[[str], str]) -> str:
    """`source` with its data statements laid out; `width` and `quotes` are black's
    `str_width` and `normalize_string_quotes`."""
    try:
        with _PARSE_LOCK:
            tree = ast.parse(source)
    except SyntaxError:
        return source  # black reports it
    lines = source.splitlines(keepends=True)
    data = source.encode()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode()))
    layout = _Layout(data, starts, width, quotes)
    out: list[str] = []
    done = 0
    for stmt in _statements(tree.body):
        laid = layout.statement(stmt, lines[stmt.lineno - 1])
        if laid is None:
            continue
        out.extend(lines[done : stmt.lineno - 1])
        out.extend(line + "\n" for line in laid)
        done = stmt.end_lineno or stmt.lineno
    out.extend(lines[done:])
    return "".join(out)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements in source order, descending into classes and functions."""
    for stmt in body:
        if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _statements(stmt.body)
        else:
            yield stmt


class _Layout:
    def __init__(
        self,
        data: bytes,
        starts: list[int],
        width: Callable[[str], int],
        quotes: Callable[[str], str],
    ) -> None:
        self.data = data
        self.starts = starts
        self.width = width
        self.quotes = quotes
        self._flat: dict[int, str] = {}
        self._magic: dict[int, bool] = {}

    def statement(self, stmt: ast.stmt, first_line: str) -> list[str] | None:
        indent = first_line[: stmt.col_offset]
        if indent.strip() or ((stmt.end_lineno or 0) <= stmt.lineno and len(first_line) < 100):
            return None  # shares its line, or is one line black will keep (the usual case)
        if isinstance(stmt, ast.ImportFrom):
            return self.import_from(stmt, indent)
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            prefix, value = f"{stmt.targets[0].id} = ", stmt.value
        elif isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Await):
            prefix, value = "return await ", stmt.value.value
        elif isinstance(stmt, ast.Return) and stmt.value is not None:
            prefix, value = "return ", stmt.value
        else:
            return None
        original = self.segment(stmt)
        end = self.starts[stmt.end_lineno or stmt.lineno]
        rest = self.data[self.offset(stmt.end_lineno, stmt.end_col_offset) : end]
        if rest.strip():
            return None  # something follows on the last line (a comment, a `;`)
        try:
            lines = self.lay(value, indent, prefix, "")
            if not self.fits(lines[0]):  # black's second opinion: the value in parentheses
                inner = indent + INDENT
                wrapped = [f"{indent}{prefix}(", *self.lay(value, inner, "", ""), f"{indent})"]
                if all(self.fits(line) for line in wrapped):
                    lines = wrapped
        except _Unsupported:
            return None
        if _IGNORED.sub("", "".join(lines)) != _IGNORED.sub("", original):
            return None  # the statement held something the tree does not (a comment)
        return lines

    def import_from(self, stmt: ast.ImportFrom, indent: str) -> list[str] | None:
        """Black always explodes an import that does not fit, one name per line."""
        names = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in stmt.names]
        head = f"{indent}from {'.' * stmt.level}{stmt.module or ''} import "
        flat = head + ", ".join(names)
        written = self.segment(stmt)
        if "#" in written:
            return None
        magic = written.rstrip(" \n)").endswith(",") and written.endswith(")")
        if self.fits(flat) and not magic:
            return [flat]
        return [f"{head}(", *(f"{indent}{INDENT}{name}," for name in names), f"{indent})"]

    # -- one expression -------------------------------------------------------------

    def lay(self, node: ast.expr, indent: str, prefix: str, suffix: str) -> list[str]:
        flat = f"{indent}{prefix}{self.flat(node)}{suffix}"
        if self.fits(flat) and not self.magic_inside(node):
            return [flat]
        items = self.items(node)
        if items is None:
            return [flat]  # nothing to split: black leaves the long line as it is
        opening, closing, parts = items
        if not parts:
            raise _Unsupported("empty brackets that do not fit")
        inner = indent + INDENT
        trailing = self.has_trailing_comma(node)
        head = f"{indent}{prefix}{opening}"
        tail = f"{indent}{closing}{suffix}"
        one_tuple = isinstance(node, ast.Tuple) and len(parts) == 1
        explode = len(parts) > 1 and (trailing or isinstance(node, (ast.Tuple, ast.List, ast.Dict)))
        if not explode:
            body = inner + ", ".join(p + self.flat(v) for p, v in parts)
            body += "," if trailing or one_tuple else ""
            if self.fits(body) and not any(self.magic_inside(v) for _, v in parts):
                return [head, body, tail]
            if len(parts) == 1:
                item_prefix, value = parts[0]
                comma = "," if trailing or one_tuple else ""
                return [head, *self.lay(value, inner, item_prefix, comma), tail]
        body_lines: list[str] = []
        for item_prefix, value in parts:
            body_lines.extend(self.lay(value, inner, item_prefix, ","))
        return [head, *body_lines, tail]

    def items(self, node: ast.expr) -> tuple[str, str, list[tuple[str, ast.expr]]] | None:
        if isinstance(node, ast.Call):
            function = self.flat(node.func)
            if not isinstance(node.func, (ast.Name, ast.Attribute)):
                raise _Unsupported("call of an expression")
            parts: list[tuple[str, ast.expr]] = [("", arg) for arg in node.args]
            for keyword in node.keywords:
                if keyword.arg is None:
                    raise _Unsupported("**kwargs")
                parts.append((f"{keyword.arg}=", keyword.value))
            if any(a.col_offset > k.value.col_offset for a in node.args for k in node.keywords):
                raise _Unsupported("keywords before positionals")
            return f"{function}(", ")", parts
        if isinstance(node, ast.Tuple):
            return "(", ")", [("", e) for e in node.elts]
        if isinstance(node, ast.List):
            return "[", "]", [("", e) for e in node.elts]
        if isinstance(node, ast.Dict):
            keys = [k for k in node.keys if k is not None]
            if len(keys) != len(node.values):
                raise _Unsupported("** in a dict")
            return (
                "{",
                "}",
                [(f"{self.flat(k)}: ", v) for k, v in zip(keys, node.values, strict=True)],
            )
        return None

    def flat(self, node: ast.expr) -> str:
        """`node` on one line, as black writes it (memoised: `lay` asks at every depth)."""
        text = self._flat.get(id(node))
        if text is None:
            text = self._flat[id(node)] = self._flatten(node)
        return text

    def _flatten(self, node: ast.expr) -> str:
        if isinstance(node, ast.Constant):
            text = self.segment(node)
            if isinstance(node.value, str):
                if not _PLAIN_STRING.match(text):
                    raise _Unsupported("string with a prefix, triple quotes or concatenated")
                if text[0] == '"' and "\\" not in text:
                    return text  # what capgen's templates write: black keeps it
                return self.quotes(text)
            if isinstance(node.value, bytes):
                raise _Unsupported("bytes")
            if text in {"None", "True", "False"} or _PLAIN_NUMBER.match(text):
                return text
            raise _Unsupported(f"number {text}: black normalises its spelling")
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            if not isinstance(node.value, ast.Name):
                raise _Unsupported("attribute chain")
            return f"{node.value.id}.{node.attr}"
        if isinstance(node, ast.Starred):
            return "*" + self.flat(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            if not isinstance(node.operand, ast.Constant):
                raise _Unsupported("unary operator on an expression")
            return "-" + self.flat(node.operand)
        items = self.items(node)
        if items is None:
            raise _Unsupported(type(node).__name__)
        opening, closing, parts = items
        body = ", ".join(p + self.flat(v) for p, v in parts)
        if self.has_trailing_comma(node) or (isinstance(node, ast.Tuple) and len(parts) == 1):
            body += ","
        if isinstance(node, ast.Tuple) and not self.segment(node).startswith("("):
            raise _Unsupported("tuple without parentheses")
        return f"{opening}{body}{closing}"

    # -- trailing commas ------------------------------------------------------------

    def has_trailing_comma(self, node: ast.expr) -> bool:
        children = self.children(node)
        if not children:
            return False
        last = children[-1]
        between = self.data[
            self.offset(last.end_lineno, last.end_col_offset) : self.offset(
                node.end_lineno, node.end_col_offset
            )
        ]
        return b"," in between

    def magic_inside(self, node: ast.expr) -> bool:
        """Whether black must split a line holding `node`: a trailing comma that is not a
        one-tuple's, in `node` or below it."""
        magic = self._magic.get(id(node))
        if magic is None:
            magic = self._magic[id(node)] = self._has_magic(node)
        return magic

    def _has_magic(self, node: ast.expr) -> bool:
        children = self.children(node)
        if not children:
            return False
        one_tuple = isinstance(node, ast.Tuple) and len(children) == 1
        if not one_tuple and self.has_trailing_comma(node):
            return True
        return any(self.magic_inside(child) for child in children)

    @staticmethod
    def children(node: ast.expr) -> list[ast.expr]:
        if isinstance(node, ast.Call):
            return [*node.args, *(k.value for k in node.keywords)]
        if isinstance(node, (ast.Tuple, ast.List)):
            return list(node.elts)
        if isinstance(node, ast.Dict):
            return list(node.values)
        return []

    # -- text -------------------------------------------------------------------------

    def fits(self, line: str) -> bool:
        return self.width(line) <= LINE_LENGTH

    def offset(self, lineno: int | None, col: int | None) -> int:
        assert lineno is not None and col is not None
        return self.starts[lineno - 1] + col

    def segment(self, node: ast.expr | ast.stmt) -> str:
        start = self.offset(node.lineno, node.col_offset)
        return self.data[start : self.offset(node.end_lineno, node.end_col_offset)].decode()
