"""Charts of the dashboard's tables, drawn by matplotlib as SVG (the review app) or PNG (the digest).

Each chart is drawn from a :class:`services.dashboard.Table` alone, so the picture shows exactly the rows
that the page's table and CSV give. matplotlib is used through its object-oriented API (a fresh
``Figure`` per chart, never ``pyplot``), so nothing is shared between requests or threads.

Labels come from listing data (seller and marketplace names) and are hostile: they are cut to
:data:`LABEL_CHARS`, and ``$`` is escaped so that matplotlib never parses them as mathtext. SVG text is
written as paths (matplotlib's default ``svg.fonttype``), so no label reaches the SVG as markup.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence

from matplotlib.figure import Figure

from services.dashboard import Table

#: Longest label drawn (seller and marketplace names are cut there).
LABEL_CHARS = 32
#: Colours, one per series in order (Okabe-Ito, readable by colour-blind readers).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: Series beyond this many are drawn as one "other" series.
MAX_SERIES = 7
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def label(text: object) -> str:
    value = "" if text is None else " ".join(str(text).split())
    if len(value) > LABEL_CHARS:
        value = value[: LABEL_CHARS - 1] + "…"
    return value.replace("$", r"\$") or "(none)"


def _series(rows: Sequence[tuple], x: int, key: int, value: int) -> tuple[list[str], dict[str, list[int]]]:
    """Rows -> x labels (in order of first appearance) and one list of values per series (the largest
    :data:`MAX_SERIES` - 1 series by total, the rest summed into "other")."""
    xs: list[str] = []
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        if row[x] not in xs:
            xs.append(row[x])
        cells[label(row[key])][row[x]] += int(row[value])
    ordered = sorted(cells, key=lambda k: (-sum(cells[k].values()), k))
    if len(ordered) > MAX_SERIES:
        keep, rest = ordered[: MAX_SERIES - 1], ordered[MAX_SERIES - 1:]
        other: dict[str, int] = defaultdict(int)
        for name in rest:
            for k, v in cells[name].items():
                other[k] += v
        cells = {**{k: cells[k] for k in keep}, "other": other}
        ordered = [*keep, "other"]
    return xs, {name: [cells[name].get(x_, 0) for x_ in xs] for name in ordered}


def _stacked(fig: Figure, xs: list[str], series: dict[str, list[int]], *, horizontal: bool = False) -> None:
    ax = fig.add_subplot()
    base = [0] * len(xs)
    positions = list(range(len(xs)))
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        if horizontal:
            ax.barh(positions, values, left=base, label=name, color=colour)
        else:
            ax.bar(positions, values, bottom=base, label=name, color=colour)
        base = [b + v for b, v in zip(base, values, strict=True)]
    ticks = [label(x) for x in xs]
    if horizontal:
        ax.set_yticks(positions, ticks)
        ax.invert_yaxis()
    else:
        step = max(1, len(xs) // 12)
        ax.set_xticks(positions[::step], [t[5:] if len(t) == 10 and t[4] == "-" else t for t in ticks][::step],
                      rotation=45, ha="right")
    ax.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        ax.legend(fontsize=8, frameon=False, loc="best")


def draw(table: Table, fmt: str = "svg") -> bytes:
    """The chart of ``table`` as SVG or PNG bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"charts are drawn as {', '.join(FORMATS)}")
    fig = Figure(figsize=(7.2, 3.2), dpi=100, layout="constrained")
    fig.suptitle(table.title, fontsize=11, x=0.01, ha="left")
    if not table.rows:
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "nothing yet in this period", ha="center", va="center", color="#52525b")
    elif table.name == "suspects":
        _stacked(fig, *_series(table.rows, 0, 1, 3))
    elif table.name == "decisions":
        _stacked(fig, *_series(table.rows, 0, 1, 2))
    elif table.name == "takedowns":
        xs = [row[0] for row in table.rows]
        names = ("removed", "edited", "still_up", "waiting")
        series = {n.replace("_", " "): table.column(n) for n in names}
        _stacked(fig, xs, series, horizontal=True)
    elif table.name == "sellers":
        xs = [f"{label(seller)} ({label(market)})" for seller, market, *_ in table.rows]
        _stacked(fig, xs, {"suspects": table.column("suspects")}, horizontal=True)
    else:
        raise ValueError(f"no chart for table {table.name!r}")
    out = io.BytesIO()
    fig.savefig(out, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return out.getvalue()
