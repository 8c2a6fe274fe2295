"""Calibration proposals on rendered shelves, where the true layout is known."""

from __future__ import annotations

import statistics

from edge.calibration import carry_assignments, propose_layout
from edge.layout import Layout
from models.synth import SimulatedShelf

SEEDS = range(200, 212)


def boundary_recall(proposed: Layout, truth: Layout, tolerance: float = 0.025) -> float:
    """Share of true inner slot edges with a proposed edge within `tolerance`."""
    found = total = 0
    for mine, real in zip(proposed.rows, truth.rows, strict=True):
        edges = [s.x0 for s in mine.slots[1:]]
        for slot in real.slots[1:]:
            total += 1
            found += any(abs(slot.x0 - x) <= tolerance for x in edges)
    return found / total


def test_proposals_find_the_shelf_rows_and_most_slot_edges() -> None:
    right_rows, errors, recalls = 0, [], []
    for seed in SEEDS:
        shelf = SimulatedShelf(seed=seed, rows=3 + seed % 3, shopper_rate=0)
        proposal = propose_layout(shelf.render().image)
        truth = shelf.layout
        if len(proposal.rows) != len(truth.rows):
            continue
        right_rows += 1
        for mine, real in zip(proposal.rows, truth.rows, strict=True):
            errors += [abs(mine.y0 - real.y0), abs(mine.y1 - real.y1)]
        recalls.append(boundary_recall(proposal, truth))
    assert right_rows >= 0.75 * len(SEEDS)
    assert statistics.median(errors) <= 0.02  # of the picture's height
    assert statistics.median(recalls) >= 0.8


def test_recalibrating_keeps_the_products_where_slots_overlap() -> None:
    shelf = SimulatedShelf(seed=203, rows=4, shopper_rate=0)
    proposal = carry_assignments(propose_layout(shelf.render().image), shelf.layout)
    assigned = [slot for _, slot, _ in proposal.slot_boxes() if slot.sku]
    assert len(assigned) >= 0.6 * len(proposal.slot_boxes())
    truth = {slot.sku for _, slot, _ in shelf.layout.slot_boxes()}
    assert {slot.sku for slot in assigned} <= truth
    assert carry_assignments(proposal, None) == proposal
