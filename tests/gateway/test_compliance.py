"""The display compliance score: its definition, and its reproduction at the gateway from
the stored slot states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.contract.compliance import compliance, effective_status, of_readings
from edge.contract.messages import ShelfState, SlotReading, SlotStatus
from edge.layout import Layout, RowSpec, SlotSpec, with_check_digit
from gateway.shelf.compliance import camera_compliance
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import admin_client

S = SlotStatus


def layout() -> Layout:
    """One row: brand A with 2 and 3 facings (widths 0.2, 0.3), brand B with 1 (0.5)."""
    specs = [(0.0, 0.2, "A", 2), (0.2, 0.5, "A", 3), (0.5, 1.0, "B", 1)]
    slots = [
        SlotSpec(
            index=i, x0=x0, x1=x1, sku=with_check_digit(f"400000000{i:03d}"), brand=b, facings=f
        )
        for i, (x0, x1, b, f) in enumerate(specs)
    ]
    return Layout(rows=[RowSpec(index=0, y0=0.1, y1=0.9, slots=slots)])


def test_stocked_counts_whole_low_half_and_occluded_as_last_seen() -> None:
    result = compliance(layout(), {(0, 0): S.STOCKED, (0, 1): S.LOW, (0, 2): S.EMPTY})
    assert result.score == pytest.approx((2 + 1.5 + 0) / 6, abs=1e-4)
    a, b = result.brands
    assert (a.brand, a.facings, a.facings_share, a.linear_share) == ("A", 5, 0.8333, 0.5)
    assert a.score == pytest.approx(3.5 / 5) and b.score == 0.0 and b.linear_share == 0.5
    assert effective_status(S.OCCLUDED, S.STOCKED) == S.STOCKED
    assert effective_status(S.OCCLUDED, None) is None
    # A slot never seen leaves both sums; wrong product and messy credit nothing.
    partial = compliance(layout(), {(0, 0): S.WRONG_PRODUCT, (0, 1): S.MESSY})
    assert partial.score == 0.0 and partial.expected_facings == 5 and partial.slots_counted == 2
    assert compliance(layout(), {}).score is None


def reading(slot: int, status: SlotStatus, held: SlotStatus | None = None) -> SlotReading:
    return SlotReading(row=0, slot=slot, status=status, held_status=held)


def test_the_gateway_reproduces_the_score_from_stored_states(tmp_path: Path) -> None:
    db = Database.in_dir(tmp_path)
    db.open()
    shelf = layout()
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    frames = [
        [reading(0, S.STOCKED), reading(1, S.STOCKED), reading(2, S.STOCKED)],
        [reading(0, S.OCCLUDED, S.STOCKED), reading(1, S.LOW), reading(2, S.STOCKED)],
        [reading(0, S.OCCLUDED, S.STOCKED), reading(1, S.EMPTY), reading(2, S.WRONG_PRODUCT)],
        [reading(0, S.MESSY), reading(1, S.EMPTY), reading(2, S.WRONG_PRODUCT)],
    ]
    with db.transaction() as tx:
        tx.save_layout("s1", "c1", shelf, t0)
    scores = []
    for i, slots in enumerate(frames):
        score = of_readings(shelf, slots).score
        scores.append(score)
        state = ShelfState(
            store="s1", camera="c1", seq=i, ts=t0 + timedelta(seconds=i), slots=slots, score=score
        )
        with db.transaction() as tx:
            tx.record_state(state, t0 + timedelta(seconds=i))
    for i, expected in enumerate(scores):
        assert camera_compliance(db, "s1", "c1", t0 + timedelta(seconds=i)).score == expected
    assert scores == [1.0, pytest.approx(0.75), pytest.approx(2 / 6, abs=1e-4), 0.0]
    api = admin_client(create_app(db))
    latest = api.get("/api/cameras/s1/c1/compliance").json()
    assert latest["score"] == 0.0 and latest["layout_version"] == shelf.version
    earlier = api.get(
        "/api/cameras/s1/c1/compliance", params={"at": (t0 + timedelta(seconds=1)).isoformat()}
    )
    assert earlier.json()["score"] == pytest.approx(0.75)
    assert [b["brand"] for b in earlier.json()["brands"]] == ["A", "B"]
    assert api.get("/api/cameras/s1/other/compliance").status_code == 404
    db.close()
