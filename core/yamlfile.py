"""The one strict YAML loader, used for the registry, scan files and selector profiles.

Strict means: PyYAML's safe constructors only (no tags that build Python objects), a duplicate key in
any mapping is an error instead of silently keeping the last value, at most :data:`MAX_NODE_VISITS` values
with aliases expanded (an alias bomb cannot expand a small file into gigabytes), and errors carry their line and
column.  Input larger than ``max_bytes`` is refused before parsing.
"""

from __future__ import annotations

import gc
from typing import Any

import yaml

from core.errors import LookalikeError

MAX_YAML_BYTES = 5 * 1024 * 1024
"""Default largest YAML text read, in bytes (UTF-8)."""
MAX_NODE_VISITS = 2_000_000
"""Values (scalars, lists, mappings) one document may hold with every alias expanded."""


class YAMLProblem(LookalikeError):
    """The text is not acceptable YAML; ``where`` is ``line L, column C`` or ``(file)``."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: bad YAML: {problem}")


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built in: ~5x faster


class StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader (libyaml's parser where available) that refuses duplicate mapping keys and documents
    whose node graph, aliases expanded, is larger than :data:`MAX_NODE_VISITS`."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_expanded_size(node)
        return self.construct_document(node)


def _check_expanded_size(root: yaml.Node) -> None:
    """Walk the node graph as a consumer would (an alias visited again each time it is used)."""
    visits = 0
    stack = [root]
    while stack:
        node = stack.pop()
        visits += 1
        if visits > MAX_NODE_VISITS:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_NODE_VISITS} values once aliases are expanded", node.start_mark
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)


def _mapping_without_duplicates(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *base" then overriding a key is no duplicate
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key; construct_mapping reports it
            continue
        if duplicate:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {str(key)[:80]!r} (line {mark.line + 1})", mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_yaml(text: str | bytes, *, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse one YAML document strictly; raises :class:`YAMLProblem` with a place for any problem."""
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise YAMLProblem("(file)", f"larger than {max_bytes} bytes")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise YAMLProblem("(file)", "not UTF-8 text") from None
    if len(text) > max_bytes:
        raise YAMLProblem("(file)", f"larger than {max_bytes} bytes")
    collecting = gc.isenabled()
    gc.disable()  # a large document allocates millions of objects: full collections made parsing quadratic
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise YAMLProblem(where, str(problem)[:300]) from None
    except RecursionError:
        raise YAMLProblem("(file)", "nested too deeply") from None
    finally:
        if collecting:
            gc.enable()
