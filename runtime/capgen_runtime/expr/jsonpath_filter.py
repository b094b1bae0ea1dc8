"""JSONPath filters (`[?(...)]`) as Jayway JsonPath evaluates them.

`@` is the item tested (an array's item, or an object itself), `$` the document. A path alone
tests existence: every name on it is there, whatever its value (null and false included); a
sub-filter's list, even empty, exists. `!`, `&&` (before `||`) and parentheses combine tests.
Comparisons: `==`/`!=` (a number equals the same number written as text), `===`/`!==` (same
type too), `<`, `<=`, `>`, `>=` (two numbers or two texts), `=~ /regex/flags` (the whole
text must match, as Java's `matches`), `in`, `nin`, `subsetof`, `anyof`, `noneof`,
`contains`, `size` and `empty`. Literals: numbers, 'text' or "text", true, false, null, JSON
arrays and objects. A missing value compares unequal to everything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol

Predicate = Callable[[Any, Any], bool]  # (item, document) -> matches
Operand = Callable[[Any, Any], Any]


class CompiledPath(Protocol):
    definite: bool

    def evaluate(self, root: Any, require: bool = False) -> Any: ...


UNDEFINED: Any = object()
_SYMBOLS = ("===", "!==", "==", "!=", "<=", ">=", "=~", "<", ">")
_WORDS = ("subsetof", "contains", "noneof", "anyof", "empty", "size", "nin", "in")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_PATH_END = set(" \t\r\n)=!<>&|,~")
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": 0}


class FilterError(ValueError):
    pass


def parse_filter(text: str, compile_path: Callable[[str], CompiledPath]) -> Predicate:
    """The predicate of `(<expression>)`, the text after `?` in a bracket."""
    if not text.startswith("(") or closing(text, 0) != len(text) - 1:
        raise FilterError(f"a filter is ?(<expression>), not ?{text}")
    parser = _Parser(text[1:-1], compile_path)
    predicate = parser.either()
    parser.skip()
    if parser.i != len(parser.text):
        raise FilterError(f"unexpected {parser.text[parser.i:]!r} in a filter")
    return predicate


def outside_quotes(text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """Each character of `text` from `start` that is not inside a quoted text, with its
    position (a backslash escapes the next character in a quote)."""
    quote, j = "", start
    while j < len(text):
        ch = text[j]
        if quote:
            if ch == "\\":
                j += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        else:
            yield j, ch
        j += 1


def closing(text: str, i: int) -> int:
    """The position of the bracket closing the one at `i`, quotes skipped."""
    depth = 0
    for j, ch in outside_quotes(text, i):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return j
    raise FilterError("unbalanced brackets")


class _Parser:
    def __init__(self, text: str, compile_path: Callable[[str], CompiledPath]) -> None:
        self.text, self.i, self.compile_path = text, 0, compile_path

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def take(self, token: str) -> bool:
        self.skip()
        if self.text.startswith(token, self.i):
            self.i += len(token)
            return True
        return False

    def either(self) -> Predicate:
        terms = [self.both()]
        while self.take("||"):
            terms.append(self.both())
        return terms[0] if len(terms) == 1 else lambda item, root: any(t(item, root) for t in terms)

    def both(self) -> Predicate:
        terms = [self.unary()]
        while self.take("&&"):
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else lambda item, root: all(t(item, root) for t in terms)

    def unary(self) -> Predicate:
        if self.take("!") and not self.text.startswith("=", self.i):
            inner = self.unary()
            return lambda item, root: not inner(item, root)
        self.skip()
        if self.text.startswith("(", self.i):
            self.i += 1
            inner = self.either()
            if not self.take(")"):
                raise FilterError("unclosed ( in a filter")
            return inner
        return self.relation()

    def relation(self) -> Predicate:
        left, exists = self.operand()
        self.skip()
        operator = next((s for s in _SYMBOLS if self.text.startswith(s, self.i)), None)
        if operator is None:
            word = re.match(r"[a-z]+(?=[\s\[('\"\d-]|$)", self.text[self.i :])
            operator = word.group(0) if word and word.group(0) in _WORDS else None
        if operator is None:
            if self.i < len(self.text) and self.text[self.i] not in "&|)":
                raise FilterError(f"unknown operator at {self.text[self.i:]!r}")
            return exists
        self.i += len(operator)
        right, _ = self.operand()
        compare = _OPERATORS[operator]
        return lambda item, root: compare(left(item, root), right(item, root))

    def operand(self) -> tuple[Operand, Predicate]:
        """The value (UNDEFINED where missing), and the existence test of a path."""
        self.skip()
        text, i = self.text, self.i
        if i >= len(text):
            raise FilterError("a filter ends where a value is expected")
        if text[i] in "@$":
            return self._path()
        if text[i] == "/":
            end = i + 1
            while end < len(text) and text[end] != "/":
                end += 2 if text[end] == "\\" else 1
            flags = re.match(r"[a-z]*", text[end + 1 :]).group(0)  # type: ignore[union-attr]
            self.i = end + 1 + len(flags)
            pattern = re.compile(text[i + 1 : end], sum(_FLAGS.get(f, 0) for f in flags))
            return _constant(pattern), _constant(True)
        value = self._literal()
        return _constant(value), _constant(bool(value))

    def _path(self) -> tuple[Operand, Predicate]:
        start = j = self.i
        while j < len(self.text) and self.text[j] not in _PATH_END:
            if self.text[j] == "[":
                j = closing(self.text, j)
            elif self.text.startswith("()", j):
                j += 1
            j += 1
        self.i = j
        source = self.text[start:j]
        path = self.compile_path(source)
        relative = source.startswith("@")

        def value(item: Any, root: Any) -> Any:
            try:
                return path.evaluate(item if relative else root)
            except (LookupError, TypeError, ValueError):
                return UNDEFINED

        def exists(item: Any, root: Any) -> bool:
            try:
                return path.evaluate(item if relative else root, require=True) is not UNDEFINED
            except (LookupError, TypeError, ValueError):
                return False

        return value, exists

    def _literal(self) -> Any:
        text, i = self.text, self.i
        if text[i] in "'\"":
            end = i + 1
            while end < len(text) and text[end] != text[i]:
                end += 2 if text[end] == "\\" else 1
            self.i = end + 1
            return re.sub(r"\\(.)", r"\1", text[i + 1 : end])
        if text[i] in "[{":
            end = closing(text, i)
            self.i = end + 1
            inner = text[i : end + 1]
            if text[i] == "{":
                return json.loads(inner)
            sub = _Parser(inner[1:-1], self.compile_path)
            items = []
            sub.skip()
            while sub.i < len(sub.text):
                items.append(sub._literal())
                if not sub.take(","):
                    break
                sub.skip()
            return items
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, i):
                self.i = i + len(word)
                return value
        number = _NUMBER.match(text, i)
        if number is None:
            raise FilterError(f"not a value: {text[i:]!r}")
        self.i = number.end()
        return json.loads(number.group(0))


def _constant(value: Any) -> Callable[[Any, Any], Any]:
    return lambda item, root: value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def equal(left: Any, right: Any) -> bool:
    """Jayway's `==`: a number and text holding that number are equal; a missing value equals
    nothing; booleans, null, arrays and objects equal only their own kind."""
    if left is UNDEFINED or right is UNDEFINED:
        return False
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        return type(left) is type(right) and left == right
    if _is_number(left) and isinstance(right, str):
        try:
            return bool(left == float(right))
        except ValueError:
            return False
    if isinstance(left, str) and _is_number(right):
        return left == json.dumps(right)
    if isinstance(left, (list, dict)) or isinstance(right, (list, dict)):
        return type(left) is type(right) and json.dumps(left, sort_keys=True) == json.dumps(
            right, sort_keys=True
        )
    return bool(left == right)


def _same_kind(left: Any, right: Any) -> bool:
    kinds = [("number" if _is_number(v) else type(v).__name__) for v in (left, right)]
    return kinds[0] == kinds[1] and equal(left, right)


def _ordered(check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        if _is_number(left) and _is_number(right):
            return check(left, right)
        if isinstance(left, str) and isinstance(right, str):
            return check(left, right)
        return False

    return compare


def _matches(left: Any, right: Any) -> bool:
    if not isinstance(right, re.Pattern):
        return False
    if _is_number(left):
        left = json.dumps(left)
    return isinstance(left, str) and right.fullmatch(left) is not None


def _within(left: Any, right: Any) -> bool:
    return isinstance(right, list) and any(equal(left, item) for item in right)


def _lists(check: Callable[[list[Any], list[Any]], bool]) -> Callable[[Any, Any], bool]:
    return (
        lambda left, right: isinstance(left, list)
        and isinstance(right, list)
        and check(left, right)
    )


def _contains(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return right in left
    return isinstance(left, list) and _within(right, left)


def _sized(left: Any, right: Any) -> bool:
    return isinstance(left, (list, str)) and _is_number(right) and len(left) == right


def _empty(left: Any, right: Any) -> bool:
    return isinstance(left, (list, str)) and isinstance(right, bool) and (not left) == right


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": equal,
    "!=": lambda left, right: not equal(left, right),
    "===": _same_kind,
    "!==": lambda left, right: not _same_kind(left, right),
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
    "=~": _matches,
    "in": _within,
    "nin": lambda left, right: not _within(left, right),
    "subsetof": _lists(lambda a, b: all(_within(x, b) for x in a)),
    "anyof": _lists(lambda a, b: any(_within(x, b) for x in a)),
    "noneof": _lists(lambda a, b: not any(_within(x, b) for x in a)),
    "contains": _contains,
    "size": _sized,
    "empty": _empty,
}
