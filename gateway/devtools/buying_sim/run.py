"""`shelf-hq simulate`: what to buy, at what price, what to stock, measured on planted truth.

One seeded world (`world`), one set of demand draws for every policy (`inventory`):
1. the naive fixed reorder point (`naive`);
2. the store's purchase suggestions followed, with the supplier choice (`suggestions`);
3. the same suggestions bought from each SKU's single cheapest supplier (the cost
   baseline);
then the suggestions run's sales go to a real head office (`hq_answers`), whose nearby
prices and "add" items are scored against the planted area prices and demand
(`scoring`). Prints one JSON object with `--json`, else a short text report.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from gateway.cli.command import Command
from gateway.devtools.buying_sim.hq_answers import ask_head_office
from gateway.devtools.buying_sim.inventory import draw_demand, run_policy
from gateway.devtools.buying_sim.naive import NaiveReorderPoint
from gateway.devtools.buying_sim.scoring import (
    assortment_precision,
    buying_figures,
    cost_figures,
    price_error,
    run_figures,
)
from gateway.devtools.buying_sim.suggestions import SuggestionsFollowed
from gateway.devtools.buying_sim.world import WorldSettings, build_world
from gateway.retail.replenishment import DEFAULT_ROUND_DOWN_SHARE, check_round_down_share

TARGETS = {
    "lost_sales_cut_pct": ">= 50",
    "stock_value_change_pct": "<= 5",
    "cost_per_unit_saving_pct": ">= 3",
    "assortment_precision_at_5": ">= 0.6",
    "nearby_price_error_pct": "<= 2",
}


def simulate(
    settings: WorldSettings,
    days: int,
    seed: int,
    workdir: Path | None = None,
    *,
    round_down_share: float = DEFAULT_ROUND_DOWN_SHARE,
) -> dict[str, Any]:
    """Run every policy on the world of `seed` and score them; the report as a dict."""
    started = time.perf_counter()
    world = build_world(settings, seed)
    demand = draw_demand(world, days)
    naive = run_policy(world, demand, NaiveReorderPoint(world), days)
    followed = run_policy(
        world, demand, SuggestionsFollowed(world, round_down_share=round_down_share), days
    )
    single = run_policy(
        world,
        demand,
        SuggestionsFollowed(world, single_cheapest=True, round_down_share=round_down_share),
        days,
    )
    hq = ask_head_office(world, followed.sales[settings.history_days :], workdir)
    return {
        "stores": settings.stores,
        "days": days,
        "seed": seed,
        "round_down_share": round_down_share,
        **buying_figures(world, naive, followed),
        **cost_figures(world, followed, single),
        **assortment_precision(world, hq.assortment_adds),
        **price_error(world, hq.price_references),
        "targets": TARGETS,
        "policies": {run.policy: run_figures(world, run) for run in (naive, followed, single)},
        "world": {
            "skus": len(world.skus),
            "stocked_store_skus": int(world.stocked.sum()),
            "areas": {
                a.code: {"price_level": round(a.price_level, 3), "planted": a.planted}
                for a in world.areas
            },
            "formats": {
                f: sum(s.format == f for s in world.stores)
                for f in ("kiosk", "convenience", "supermarket")
            },
            "history_days": settings.history_days,
        },
        "head_office_messages": hq.messages,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def text_report(report: dict[str, Any]) -> str:
    """The headline figures, one a line, with the issue's targets."""
    lines = [
        f"buying simulation: {report['stores']} stores, {report['days']} days, seed {report['seed']}"
    ]
    for key, target in TARGETS.items():
        lines.append(f"  {key}: {report[key]} (target {target})")
    for name, figures in report["policies"].items():
        lines.append(
            f"  {name}: lost {figures['lost_units']:.0f} units ({figures['lost_share_pct']} %), "
            f"stock-out hours {figures['stockout_hours']:.0f}, avg stock value "
            f"{figures['avg_stock_value']:.0f}, cost/unit bought {figures['cost_per_unit_bought']}"
        )
    lines.append(
        f"  assortment: {report['assortment_true_adds_shown']} of {report['assortment_adds_shown']} "
        f"adds shown worth adding (strict precision@5 {report['assortment_strict_precision_at_5']}), "
        f"{report['assortment_planted_gaps_found']} of {report['assortment_planted_gaps']} planted gaps found"
    )
    lines.append(
        f"  nearby prices: {report['nearby_price_references']} references, median error "
        f"{report['nearby_price_error_median_pct']} %, within 2 %: {report['nearby_price_within_2pct_share']}"
    )
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    settings = WorldSettings(stores=args.stores, areas=args.areas)
    report = simulate(
        settings, args.days, args.seed, args.workdir, round_down_share=args.round_down_share
    )
    print(json.dumps(report) if args.json else text_report(report))
    return 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stores", type=int, default=50, help="simulated stores (default 50)")
    parser.add_argument(
        "--areas", type=int, default=5, help="neighbourhoods the stores lie in (default 5)"
    )
    parser.add_argument("--days", type=int, default=28, help="simulated days (default 28)")
    parser.add_argument("--seed", type=int, default=1, help="the world's and demand's seed")
    parser.add_argument(
        "--workdir", type=Path, help="keep the head office's dataset here (default: a temp dir)"
    )
    parser.add_argument(
        "--round-down-share",
        type=_share,
        default=DEFAULT_ROUND_DOWN_SHARE,
        help="share of the safety stock that rounding down to the nearest pack may leave "
        f"uncovered (default {DEFAULT_ROUND_DOWN_SHARE}; 0: always round up)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _share(text: str) -> float:
    """A share in [0, 1], checked before the run starts (argparse names the option)."""
    try:
        return check_round_down_share(float(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def command() -> Command:
    return Command(
        name="simulate",
        help="purchase suggestions, nearby prices and assortment guidance measured on a "
        "simulated fleet with planted truth",
        description=__doc__.split("\n\n")[0],
        add_arguments=_arguments,
        handler=_run,
    )
