"""Issue 30's bar, through the production monitor: a fake CT log of about 2,000 names hiding 40 look-alikes
of the demo brands among unrelated and trap names (the brands' own domains, dictionary words holding a
mark).  Tuning seed 7 here; ``python -m bench.discovery`` reports the held-out seeds apart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.discovery import measure
from data.demo.ctnames import ct_yardstick


def test_the_yardstick_has_the_shape_the_issue_asks() -> None:
    _brands, names = ct_yardstick(7)
    labels = Counter(n.label for n in names)
    assert labels["lookalike"] == 40 and 1900 <= len(names) <= 2100
    assert labels["trap"] >= 100
    kinds = Counter(n.kind for n in names if n.label == "trap")
    assert kinds["official"] >= 12 * 5 and kinds["dictionary"] >= 20
    assert any(n.name.startswith("xn--") for n in names if n.label == "lookalike")


def test_recall_precision_and_no_official_domain_on_the_fake_ct_log(tmp_path: Path) -> None:
    score = measure(7, tmp_path)
    assert score.official_candidates == 0
    assert score.recall >= 0.95, score.misses
    assert score.precision >= 0.90, score.false
