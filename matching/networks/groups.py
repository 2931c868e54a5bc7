"""Networks: connected groups of sellers over strong links, with ids that stay while a network grows.

The merge rule: **only a strong link merges**. Two sellers are in one network when a chain of links, each at
least ``NetworkConfig.strong_link`` strong, joins them. A weak link (``weak_link`` to ``strong_link``) is
kept and shown on both networks' pages as a possible link, but never merges two networks, however many of
them there are: weak evidence adds up only inside one link (its pieces combine), never across links.

Ids (:func:`assign_ids`): each new group takes the id of the earlier network it shares most sellers with
(ties: the older id), when no larger group has taken it already; so a network that grows keeps its id, two
networks that merge keep the older one, and a network that splits keeps its id on its largest part.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from matching.networks.links import Link

__all__ = ["assign_ids", "strong_groups"]


def strong_groups(sellers: Iterable[str], links: Sequence[Link]) -> list[frozenset[str]]:
    """Groups of two or more sellers joined by strong links, largest first (ties: by their first seller)."""
    parent: dict[str, str] = {s: s for s in sellers}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in links:
        if link.strong:
            ra, rb = find(link.a), find(link.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, set[str]] = {}
    for seller in list(parent):
        members.setdefault(find(seller), set()).add(seller)
    groups = [frozenset(m) for m in members.values() if len(m) >= 2]
    return sorted(groups, key=lambda g: (-len(g), min(g)))


def assign_ids(groups: Sequence[frozenset[str]], previous: Mapping[str, int], *, next_id: int) -> dict[int, frozenset[str]]:
    """``{network id: sellers}``: ``previous`` is ``{seller: its network id}`` of the last run; ``next_id`` the
    first id never used."""
    out: dict[int, frozenset[str]] = {}
    taken: set[int] = set()
    for group in sorted(groups, key=lambda g: (-len(g), min(g))):
        overlap = Counter(previous[s] for s in group if s in previous)
        choice = None
        for network_id, _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
            if network_id not in taken:
                choice = network_id
                break
        if choice is None:
            choice = next_id
            next_id += 1
        taken.add(choice)
        out[choice] = group
    return out
