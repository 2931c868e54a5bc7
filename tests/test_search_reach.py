"""The reach bar of planned search (issue 29): on the demo's search-only marketplaces, within the default
query budget, the planner's queries reach the infringing listings (data/demo/reach.py measures it; the demo
world knows the truth).  The world is generated without rendering its images (only titles are searched)."""

from __future__ import annotations

from pathlib import Path

import pytest

import data.demo.generate as generate
from core.settings import Settings
from data.demo import reach


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reach-world")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generate, "_render_all", lambda *args, **kwargs: None)
        generate.generate_world(folder, seed=7, workers=1)
    return folder


def test_planned_search_reaches_the_infringing_listings_within_the_default_budget(world: Path) -> None:
    budget = Settings.model_fields["query_budget"].default
    before, js, html_held_out, html_all = reach.run(world, budget=budget, nights=4)
    share = [r / t for r, t in js.nights]
    # Before the planner, the registry's marks and product names reached little more than half.
    assert before.nights[0][0] / before.nights[0][1] < 0.65
    # Night 1 knows nothing of the record; the budget then moves to the queries that find suspects.
    assert share[0] > 0.8 and max(share) >= 0.95 and share[-1] >= share[0]
    assert js.together[0] / js.together[1] >= 0.95
    assert all(q <= budget for q in js.queries)
    # The HTML marketplace (no filler) is reached whole from the first night, on the held-out listings too.
    assert html_held_out.nights[0][0] / html_held_out.nights[0][1] >= 0.95
    assert html_all.nights[0][0] / html_all.nights[0][1] >= 0.95
