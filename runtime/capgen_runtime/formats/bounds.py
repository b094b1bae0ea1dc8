"""Bounds on what an upstream body becomes once decoded: the spec loader's bounds, applied to
answers.

A body of N bytes may become at most `EXPANSION` values per byte (plus `MARGIN`): a YAML
document whose aliases expand past that (426 bytes of `&a [*b, *b, ...]` are 269 MB), or a CSV
whose short rows are each filled out to a wide header, is refused as malformed rather than
built. Recursive aliases and nesting deeper than the interpreter can follow are refused too,
and XML may not declare entities (the billion laughs and external entities alike).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # PyYAML is imported when a YAML body is first read, not at start-up
    import yaml

EXPANSION = 10  # values per byte of body
MARGIN = 10_000


class TooLarge(ValueError):
    """A body that would decode into more than its budget of values."""


def budget(size: int) -> int:
    return EXPANSION * size + MARGIN


class MalformedYaml(ValueError):
    """A YAML document PyYAML cannot read (its `YAMLError`, as a ValueError)."""


def load_yaml(text: str) -> Any:
    """`yaml.safe_load` of one document, refused (TooLarge) when its aliases expand it past
    the budget or refer to themselves; what PyYAML cannot read is `MalformedYaml`."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _count(node, budget(len(text)))
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise MalformedYaml(type(exc).__name__) from None
    finally:
        loader.dispose()


def _count(root: yaml.Node, limit: int) -> None:
    """The number of values `root` expands to, each alias counted as a copy, without
    expanding anything: a node's size is computed once (children before parents)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > limit:
                raise TooLarge(f"the document expands past {limit} values")
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise TooLarge("the document refers to itself (a recursive alias)")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_xml(text: str) -> None:
    """Entity declarations are not read: what they expand to has no bound."""
    if "<!ENTITY" in text:
        raise TooLarge("the document declares entities")
