"""`shelf-hq simulate`, small: the buying policies (the store's real purchase-suggestion
core against a naive reorder point) and the head office's real nearby prices and
assortment guidance, scored against a seeded world's planted truth.

The figures must come from the run: the same seed gives the same runs, and a world
without planted gaps, whose owners know their demand, has nothing worth adding, so no
"add" suggestion can be a true one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gateway.cli.hq import main
from gateway.devtools.buying_sim.inventory import draw_demand, run_policy
from gateway.devtools.buying_sim.naive import NaiveReorderPoint
from gateway.devtools.buying_sim.run import TARGETS, simulate
from gateway.devtools.buying_sim.scoring import run_figures
from gateway.devtools.buying_sim.suggestions import SuggestionsFollowed
from gateway.devtools.buying_sim.world import WorldSettings, build_world

SMALL = {"stores": 12, "areas": 2}


def test_the_command_prints_every_figure_as_one_json_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--stores", "12", "--areas", "2", "--days", "5", "--seed", "4"]
    assert (
        main(["--log-level", "WARNING", "simulate", *args, "--json", "--workdir", str(tmp_path)])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert set(TARGETS) <= set(report)
    assert (report["stores"], report["days"], report["seed"]) == (12, 5, 4)
    policies = report["policies"]
    assert set(policies) == {
        "naive_reorder_point",
        "suggestions_followed",
        "suggestions_single_cheapest",
    }
    naive, followed = policies["naive_reorder_point"], policies["suggestions_followed"]
    # The headline figures are the policies' raw figures compared, not constants.
    cut = (naive["lost_units"] - followed["lost_units"]) / naive["lost_units"] * 100
    assert report["lost_sales_cut_pct"] == pytest.approx(cut, abs=0.01)
    change = (followed["avg_stock_value"] / naive["avg_stock_value"] - 1) * 100
    assert report["stock_value_change_pct"] == pytest.approx(change, abs=0.01)
    single = policies["suggestions_single_cheapest"]
    saving = (1 - followed["cost_per_unit_bought"] / single["cost_per_unit_bought"]) * 100
    assert report["cost_per_unit_saving_pct"] == pytest.approx(saving, abs=0.05)
    for figures in policies.values():
        assert figures["units_sold"] > 0 and figures["units_bought"] > 0
    # The head office saw the stores' sales and answered for this world.
    assert report["head_office_messages"] > 12
    assert report["nearby_price_references"] > 0
    assert 0 <= report["nearby_price_error_pct"] < 10
    assert report["assortment_worth_adding"] > 0 and report["assortment_adds_shown"] > 0
    assert report["assortment_true_adds_shown"] > 0
    assert 0 < report["assortment_precision_at_5"] <= 1
    # The head office's dataset stays in --workdir.
    assert (tmp_path / "sales").is_dir() and (tmp_path / "results").is_dir()


def test_the_same_seed_gives_the_same_runs_and_another_seed_others() -> None:
    def figures(seed: int) -> list[dict]:
        world = build_world(WorldSettings(stores=4, areas=2), seed)
        demand = draw_demand(world, 4)
        return [
            run_figures(world, run_policy(world, demand, policy, 4))
            for policy in (NaiveReorderPoint(world), SuggestionsFollowed(world))
        ]

    assert figures(7) == figures(7)
    assert figures(7) != figures(8)
    a, b = build_world(WorldSettings(**SMALL), 7), build_world(WorldSettings(**SMALL), 7)
    assert np.array_equal(a.daily_demand, b.daily_demand) and np.array_equal(a.price, b.price)


def test_a_world_without_planted_gaps_gives_no_true_adds(tmp_path: Path) -> None:
    settings = WorldSettings(**SMALL, gap_share=0.0, belief_noise=0.0)
    world = build_world(settings, 4)
    assert not world.planted_gap.any() and not world.worth_adding().any()
    report = simulate(settings, days=3, seed=4, workdir=tmp_path)
    assert report["assortment_worth_adding"] == 0
    # The head office still suggests adds (what similar stores sell); none is worth it here.
    assert report["assortment_adds_shown"] > 0
    assert report["assortment_true_adds_shown"] == 0
    assert report["assortment_precision_at_5"] == 0.0
