"""Detections -> slot states, and slot transitions -> one event each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge.analysis import SlotTracker, analyse, transition_event, transition_events, union_area
from edge.contract.messages import Detection, EventType, SlotReading, SlotStatus
from edge.layout import Layout, RowSpec, SlotSpec, with_check_digit
from edge.settings import AnalysisSettings

SETTINGS = AnalysisSettings(empty_fraction=0.5, low_fraction=0.2, messy_fraction=0.3)


def two_by_three() -> Layout:
    """Two rows (y 0-0.5, 0.5-1), three equal slots each; every slot has a SKU."""
    rows = []
    for r in range(2):
        slots = [
            SlotSpec(index=i, x0=i / 3, x1=(i + 1) / 3, sku=with_check_digit(f"400638133{r}{i}9"))
            for i in range(3)
        ]
        rows.append(RowSpec(index=r, y0=r / 2, y1=(r + 1) / 2, slots=slots))
    return Layout(rows=rows)


def gap(x0: float, y0: float, x1: float, y1: float, score: float = 0.8) -> Detection:
    return Detection(label="gap", score=score, box=(x0, y0, x1, y1))


def statuses(readings: list[SlotReading]) -> dict[tuple[int, int], SlotStatus]:
    return {(r.row, r.slot): r.status for r in readings}


def test_union_area_counts_overlaps_once() -> None:
    assert union_area([(0, 0, 1, 1)]) == pytest.approx(1)
    assert union_area([(0, 0, 1, 1), (0.5, 0, 1.5, 1)]) == pytest.approx(1.5)
    assert union_area([(0, 0, 2, 2), (0.5, 0.5, 1, 1)]) == pytest.approx(4)
    assert union_area([(0, 0, 1, 1), (2, 2, 3, 3)]) == pytest.approx(2)
    assert union_area([]) == 0


def test_a_gap_box_marks_the_slot_it_covers_empty() -> None:
    layout = two_by_three()
    # Covers most of row 1, slot 2 (x 0.667-1, y 0.5-1) and nothing else.
    readings = analyse(layout, [gap(0.68, 0.52, 0.99, 0.98, score=0.9)], SETTINGS)
    assert len(readings) == 6
    got = statuses(readings)
    assert got[(1, 2)] == SlotStatus.EMPTY
    assert [k for k, v in got.items() if v != SlotStatus.STOCKED] == [(1, 2)]
    empty = next(r for r in readings if (r.row, r.slot) == (1, 2))
    assert empty.gap_fraction == pytest.approx(0.31 * 0.46 / (1 / 3 * 0.5), abs=1e-3)
    assert empty.confidence == pytest.approx(0.9)
    assert empty.sku == layout.rows[1].slots[2].sku


def test_partial_gap_is_low_and_boxes_are_split_between_slots() -> None:
    layout = two_by_three()
    # One box over the right 30% of slot (0,0) and the left 30% of slot (0,1).
    box = gap(1 / 3 - 0.1, 0.0, 1 / 3 + 0.1, 0.5)
    got = statuses(analyse(layout, [box], SETTINGS))
    assert got[(0, 0)] == SlotStatus.LOW and got[(0, 1)] == SlotStatus.LOW
    assert got[(0, 2)] == SlotStatus.STOCKED and got[(1, 0)] == SlotStatus.STOCKED


def test_a_box_across_two_shelves_counts_in_both_and_one_ending_at_a_shelf_in_neither() -> None:
    layout = two_by_three()
    across = gap(0.0, 0.2, 1 / 3, 0.8)  # 60% of slot (0,0) and 60% of slot (1,0)
    touching = gap(2 / 3, 0.0, 1.0, 0.5)  # fills slot (0,2); ends where row 1 begins
    readings = {(r.row, r.slot): r for r in analyse(layout, [across, touching], SETTINGS)}
    assert readings[(0, 0)].gap_fraction == pytest.approx(0.6)
    assert readings[(1, 0)].gap_fraction == pytest.approx(0.6)
    assert readings[(0, 2)].status == SlotStatus.EMPTY
    assert readings[(1, 2)].gap_fraction == 0 and readings[(1, 2)].status == SlotStatus.STOCKED


def test_two_overlapping_gap_boxes_are_not_counted_twice() -> None:
    layout = two_by_three()
    # Each box alone covers 40% of slot (0,0); together (overlapping) only 45%.
    boxes = [gap(0.0, 0.0, 1 / 3, 0.2), gap(0.0, 0.025, 1 / 3, 0.225)]
    (first, *_) = analyse(layout, boxes, SETTINGS)
    assert first.gap_fraction == pytest.approx(0.45)
    assert first.status == SlotStatus.LOW


def test_messy_box_marks_its_slot_messy_and_only_an_empty_slot_outranks_it() -> None:
    layout = two_by_three()
    messy = Detection(label="messy", score=0.7, box=(0.0, 0.5, 0.3, 0.95))
    readings = analyse(layout, [messy, gap(0.7, 0.0, 1.0, 0.5)], SETTINGS)
    got = statuses(readings)
    assert got[(1, 0)] == SlotStatus.MESSY
    assert got[(0, 2)] == SlotStatus.EMPTY
    messy_reading = next(r for r in readings if (r.row, r.slot) == (1, 0))
    assert messy_reading.confidence == pytest.approx(0.7)
    # Messy beats low (a partial gap in the same slot) ...
    partly = analyse(layout, [messy, gap(0.0, 0.5, 0.1, 1.0)], SETTINGS)
    assert statuses(partly)[(1, 0)] == SlotStatus.MESSY
    # ... but a slot that is mostly a gap is empty.
    both = analyse(layout, [messy, gap(0.0, 0.5, 1 / 3, 1.0)], SETTINGS)
    assert statuses(both)[(1, 0)] == SlotStatus.EMPTY
    # A messy box spilling a little into the neighbour does not make it messy.
    spill = Detection(label="messy", score=0.7, box=(0.0, 0.5, 0.38, 1.0))
    assert statuses(analyse(layout, [spill], SETTINGS))[(1, 1)] == SlotStatus.STOCKED


def test_unknown_labels_are_ignored_and_no_layout_means_no_slots() -> None:
    layout = two_by_three()
    person = Detection(label="person", score=0.9, box=(0, 0, 1, 1))
    assert set(statuses(analyse(layout, [person], SETTINGS)).values()) == {SlotStatus.STOCKED}
    assert analyse(None, [gap(0, 0, 1, 1)], SETTINGS) == []


def test_thresholds_come_from_settings() -> None:
    layout = two_by_three()
    box = gap(0.0, 0.0, 1 / 3, 0.15)  # 30% of slot (0,0)
    assert statuses(analyse(layout, [box], SETTINGS))[(0, 0)] == SlotStatus.LOW
    strict = AnalysisSettings(empty_fraction=0.25, low_fraction=0.1)
    assert statuses(analyse(layout, [box], strict))[(0, 0)] == SlotStatus.EMPTY


def test_transition_table() -> None:
    s = SlotStatus
    assert transition_event(s.STOCKED, s.EMPTY) == EventType.GAP_OPENED
    assert transition_event(s.LOW, s.EMPTY) == EventType.GAP_OPENED
    assert transition_event(s.EMPTY, s.STOCKED) == EventType.GAP_CLOSED
    assert transition_event(s.EMPTY, s.LOW) == EventType.GAP_CLOSED
    assert transition_event(s.STOCKED, s.LOW) == EventType.LOW_STOCK
    assert transition_event(s.LOW, s.STOCKED) == EventType.RESTOCKED
    assert transition_event(s.STOCKED, s.MESSY) == EventType.MESSY
    assert transition_event(s.MESSY, s.STOCKED) == EventType.STATUS_CHANGED
    assert transition_event(s.EMPTY, s.EMPTY) is None
    # First sight: an empty shelf is news, a stocked one is not.
    assert transition_event(None, s.EMPTY) == EventType.GAP_OPENED
    assert transition_event(None, s.STOCKED) is None


def test_tracker_emits_one_event_per_confirmed_transition() -> None:
    layout = two_by_three()
    tracker = SlotTracker("s1", "c1", confirm_frames=2)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    full = analyse(layout, [], SETTINGS)
    hole = analyse(layout, [gap(0.0, 0.0, 1 / 3, 0.5)], SETTINGS)

    def step(readings, i):
        return tracker.update(readings, t0 + timedelta(seconds=i))

    _, events = step(full, 0)
    assert events == []
    # One frame of a gap is not confirmed yet: still reported stocked, no event.
    slots, events = step(hole, 1)
    assert events == [] and statuses(slots)[(0, 0)] == SlotStatus.STOCKED
    slots, events = step(hole, 2)
    assert [(e.type, e.row, e.slot, e.previous, e.status) for e in events] == [
        (EventType.GAP_OPENED, 0, 0, SlotStatus.STOCKED, SlotStatus.EMPTY)
    ]
    assert events[0].store == "s1" and events[0].camera == "c1"
    assert events[0].sku == layout.rows[0].slots[0].sku
    assert statuses(slots)[(0, 0)] == SlotStatus.EMPTY
    assert next(s for s in slots if (s.row, s.slot) == (0, 0)).since == t0 + timedelta(seconds=2)
    # The gap staying open is not news again.
    for i in range(3, 8):
        assert step(hole, i)[1] == []
    # A one-frame flicker back to stocked is ignored; a lasting restock closes the gap.
    assert step(full, 8)[1] == [] and step(hole, 9)[1] == []
    step(full, 10)
    _, events = step(full, 11)
    assert [e.type for e in events] == [EventType.GAP_CLOSED]
    ids = {e.id for e in events}
    assert len(ids) == 1


def test_tracker_reports_a_shelf_that_is_already_empty_at_start() -> None:
    layout = two_by_three()
    tracker = SlotTracker("s1", "c1", confirm_frames=3)
    _, events = tracker.update(analyse(layout, [gap(0.0, 0.5, 1 / 3, 1.0)], SETTINGS))
    assert [(e.type, e.row, e.slot) for e in events] == [(EventType.GAP_OPENED, 1, 0)]
    tracker.reset()
    _, events = tracker.update(analyse(layout, [gap(0.0, 0.5, 1 / 3, 1.0)], SETTINGS))
    assert len(events) == 1


def as_status(readings: list[SlotReading], key: tuple[int, int], status: SlotStatus):
    return [
        r.model_copy(update={"status": status}) if (r.row, r.slot) == key else r for r in readings
    ]


def test_an_occluded_slot_keeps_its_status_and_a_gap_behind_the_shopper_is_reported_after() -> None:
    layout = two_by_three()
    tracker = SlotTracker("s1", "c1", confirm_frames=2)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    full = analyse(layout, [], SETTINGS)
    hole = analyse(layout, [gap(0.0, 0.0, 1 / 3, 0.5)], SETTINGS)
    hidden = as_status(full, (0, 0), SlotStatus.OCCLUDED)
    tracker.update(full, t0)
    for i in range(1, 6):  # a shopper stands in front: never a gap, the status is held
        slots, events = tracker.update(hidden, t0 + timedelta(seconds=i))
        first = statuses(slots)[(0, 0)]
        assert events == [] and first == SlotStatus.OCCLUDED
        assert slots[0].held_status == SlotStatus.STOCKED
    # Behind them the slot sold out: seen in two visible frames, reported once.
    assert tracker.update(hole, t0 + timedelta(seconds=6))[1] == []
    _, events = tracker.update(hole, t0 + timedelta(seconds=7))
    assert [(e.type, e.previous) for e in events] == [(EventType.GAP_OPENED, SlotStatus.STOCKED)]
    # An occluded frame between two frames of a change neither confirms nor breaks it.
    tracker.update(full, t0 + timedelta(seconds=8))
    tracker.update(as_status(full, (0, 0), SlotStatus.OCCLUDED), t0 + timedelta(seconds=9))
    _, events = tracker.update(full, t0 + timedelta(seconds=10))
    assert [e.type for e in events] == [EventType.GAP_CLOSED]


def test_partly_hidden_slots_hold_without_being_called_occluded() -> None:
    layout = two_by_three()
    tracker = SlotTracker("s1", "c1", confirm_frames=1)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    tracker.update(analyse(layout, [], SETTINGS), t0)
    hole = analyse(layout, [gap(0.0, 0.0, 1 / 3, 0.5)], SETTINGS)
    slots, events = tracker.update(hole, t0 + timedelta(seconds=1), hold={(0, 0)})
    assert events == [] and statuses(slots)[(0, 0)] == SlotStatus.STOCKED
    assert [e.type for e in tracker.update(hole, t0 + timedelta(seconds=2))[1]] == [
        EventType.GAP_OPENED
    ]


def test_confirm_seconds_confirm_a_change_before_confirm_frames_do() -> None:
    layout = two_by_three()
    tracker = SlotTracker("s1", "c1", confirm_frames=10, confirm_s=30)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    full = analyse(layout, [], SETTINGS)
    hole = analyse(layout, [gap(0.0, 0.0, 1 / 3, 0.5)], SETTINGS)
    tracker.update(full, t0)
    for s in (10, 20, 39):
        assert tracker.update(hole, t0 + timedelta(seconds=s))[1] == []
    _, events = tracker.update(hole, t0 + timedelta(seconds=40))
    assert [e.type for e in events] == [EventType.GAP_OPENED]


def test_a_gap_filled_with_the_wrong_product_closes_the_gap_and_says_so() -> None:
    s = SlotStatus
    assert transition_events(s.EMPTY, s.WRONG_PRODUCT) == [
        EventType.GAP_CLOSED,
        EventType.WRONG_PRODUCT,
    ]
    assert transition_events(s.LOW, s.WRONG_PRODUCT) == [EventType.WRONG_PRODUCT]
    assert transition_events(s.WRONG_PRODUCT, s.STOCKED) == [EventType.STATUS_CHANGED]
    assert transition_events(s.STOCKED, s.STOCKED) == []
