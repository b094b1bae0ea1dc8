"""Did-you-mean: the declared name closest to what was written, and whether it is a typo of it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SUGGEST = 0.6  # difflib's similarity above which a declared value is offered as a guess
NAME_GUESS = 0.75  # for keys and names, where many are declared (`personas` is no `version`)


def closest(word: object, choices: Iterable[str], cutoff: float = SUGGEST) -> str | None:
    """The declared name most like `word` (case ignored), if any is at least `cutoff` alike."""
    lowered: dict[str, str] = {}
    for choice in sorted(set(choices), reverse=True):
        lowered[choice.lower()] = choice
    found = difflib.get_close_matches(str(word).lower(), sorted(lowered), 1, cutoff)
    return lowered[found[0]] if found else None


def did_you_mean(word: object, choices: Iterable[str], cutoff: float = SUGGEST) -> str:
    """`; did you mean 'query'?`, or "" when nothing declared is close."""
    guess = closest(word, choices, cutoff)
    return f"; did you mean {guess!r}?" if guess is not None else ""


def typo_of(word: str, choices: Iterable[str]) -> str | None:
    """The declared name `word` is a misspelling of: one edit away (a letter added, dropped,
    changed, two swapped, or the case), two for names of 8 letters or more; None when no
    single declared name is that close (`personas` is no typo of `version`)."""
    allowed = 2 if len(word) >= 8 else 1
    found = sorted(c for c in set(choices) if _edits(word.lower(), c.lower()) <= allowed)
    return found[0] if len(found) == 1 and found[0] != word else None


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein with transpositions); the standard
    library has none, and a dependency for these lines is not worth it."""
    if abs(len(a) - len(b)) > 2:
        return 3
    previous: list[int] = []
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        before, previous, row = previous, row, [i]
        for j, y in enumerate(b, 1):
            cost = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, before[j - 2] + 1)
            row.append(cost)
    return row[-1]
