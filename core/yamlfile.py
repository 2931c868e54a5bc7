"""The one strict YAML loader, used for the registry, scan files and selector profiles.

Strict means: PyYAML's safe constructors only (no tags that build Python objects), a duplicate key in
any mapping is an error instead of silently keeping the last value, at most :data:`MAX_ALIASES` alias
references (an alias bomb cannot expand a small file into gigabytes), and errors carry their line and
column.  Input larger than ``max_bytes`` is refused before parsing.
"""

from __future__ import annotations

from typing import Any

import yaml

from core.errors import LookalikeError

MAX_YAML_BYTES = 5 * 1024 * 1024
"""Default largest YAML text read, in bytes (UTF-8)."""
MAX_ALIASES = 100
"""Alias references (``*name``) allowed in one document."""


class YAMLProblem(LookalikeError):
    """The text is not acceptable YAML; ``where`` is ``line L, column C`` or ``(file)``."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: bad YAML: {problem}")


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys and counts alias references."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.aliases_seen = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases_seen += 1
            if self.aliases_seen > MAX_ALIASES:
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_ALIASES} alias references", event.start_mark
                )
        return super().compose_node(parent, index)


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
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise YAMLProblem(where, str(problem)[:300]) from None
    except RecursionError:
        raise YAMLProblem("(file)", "nested too deeply") from None
