"""The synthetic shelf renderer and the simulated shelf, through their public interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from edge.layout import gtin_check_digit_ok
from models.synth import CLASSES, SimulatedShelf, random_frame, render_dataset


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Share of `a`'s area inside `b`."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]))


def test_same_seed_same_shelf_and_frames() -> None:
    a, b = SimulatedShelf(seed=5), SimulatedShelf(seed=5)
    assert a.layout == b.layout
    a.step(7200)
    b.step(7200)
    assert a.truth() == b.truth()
    assert np.array_equal(a.render().image, b.render().image)
    assert SimulatedShelf(seed=6).layout != a.layout


def test_layout_is_valid_and_carries_real_gtins() -> None:
    shelf = SimulatedShelf(seed=2, rows=4, slots_per_row=6)
    slots = shelf.layout.slot_boxes()
    assert len(slots) == 24
    for _row, slot, (x0, y0, x1, y1) in slots:
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        assert slot.sku and gtin_check_digit_ok(slot.sku)
        assert slot.brand and slot.name and slot.facings >= 1 and slot.depth >= 2


def test_an_emptied_slot_shows_a_gap_box_over_its_layout_rect() -> None:
    shelf = SimulatedShelf(seed=3, shopper_rate=0)
    assert shelf.truth()[(1, 2)] == "stocked"
    assert not [b for b in shelf.render().boxes if b.label == "gap"]
    shelf.slots[(1, 2)].units = 0
    frame = shelf.render()
    assert frame.truth[(1, 2)] == "empty"
    rect = next(
        box for row, slot, box in shelf.layout.slot_boxes() if (row.index, slot.index) == (1, 2)
    )
    gaps = [(b.x0, b.y0, b.x1, b.y1) for b in frame.boxes if b.label == "gap"]
    assert any(overlap(rect, gap) > 0.6 for gap in gaps), (rect, gaps)


def test_a_messy_slot_keeps_its_look_and_gets_a_messy_box_over_it() -> None:
    shelf = SimulatedShelf(seed=3, shopper_rate=0)
    SimulatedShelf.make_messy(shelf.slots[(2, 1)], np.random.default_rng(0))
    first, second = shelf.render(), shelf.render()
    assert first.truth[(2, 1)] == "messy"
    messy = [(b.x0, b.y0, b.x1, b.y1) for b in first.boxes if b.label == "messy"]
    assert messy == [(b.x0, b.y0, b.x1, b.y1) for b in second.boxes if b.label == "messy"]
    rect = next(
        box for row, slot, box in shelf.layout.slot_boxes() if (row.index, slot.index) == (2, 1)
    )
    assert len(messy) == 1 and overlap(messy[0], rect) > 0.3, (messy, rect)


def test_over_simulated_hours_shoppers_buy_and_staff_restock() -> None:
    shelf = SimulatedShelf(seed=4, shopper_rate=0.5)
    emptied, restocked, occluded = set(), set(), 0
    previous = shelf.truth()
    for _ in range(16 * 6):  # 16 hours in 10-minute steps
        shelf.step(600)
        now = shelf.truth()
        emptied |= {k for k, v in now.items() if v == "empty"}
        restocked |= {k for k, v in now.items() if previous[k] == "empty" and v != "empty"}
        previous = now
        occluded += bool(shelf.render().occluded) if len(emptied) % 7 == 0 else 0
    sales = shelf.drain_sales()
    assert sum(s.quantity for s in sales) > 50
    assert all(gtin_check_digit_ok(s.sku) and s.unit_price > 0 for s in sales)
    assert shelf.drain_sales() == []
    assert emptied and restocked
    assert shelf.clock_s == 16 * 3600


def test_training_frames_have_boxes_inside_the_frame() -> None:
    labels = set()
    for seed in range(12):
        frame = random_frame(seed)
        assert frame.image.shape == (480, 640, 3) and frame.image.dtype == np.uint8
        for box in frame.boxes:
            assert 0 <= box.x0 < box.x1 <= 1 and 0 <= box.y0 < box.y1 <= 1
            labels.add(box.label)
    assert labels == set(CLASSES)


def test_render_dataset_writes_yolo_format(tmp_path: Path) -> None:
    data_yaml = render_dataset(tmp_path, count=8, seed=1)
    data = yaml.safe_load(data_yaml.read_text())
    assert data["names"] == {0: "gap", 1: "messy"}
    images = sorted((tmp_path / "images").rglob("*.jpg"))
    labels = sorted((tmp_path / "labels").rglob("*.txt"))
    assert len(images) == len(labels) == 8
    assert any((tmp_path / "images" / "val").iterdir())
    for label in labels:
        for line in filter(None, label.read_text().splitlines()):
            cls, *xywh = line.split()
            assert cls in ("0", "1") and all(0 <= float(v) <= 1 for v in xywh)


def test_demand_is_the_same_whether_frames_are_rendered_or_not() -> None:
    """Two runs of one seed see the same shoppers wanting the same units: rendering (and
    what staff do) draws from other random streams."""
    rendered, bare = SimulatedShelf(seed=8, size=(320, 240)), SimulatedShelf(seed=8)
    for _ in range(30):
        rendered.step(120)
        rendered.render()
        bare.step(120)
    assert rendered.drain_sales() == bare.drain_sales()
    assert rendered.lost_units == bare.lost_units


def test_a_hidden_product_looks_stocked_sells_nothing_and_its_demand_is_lost() -> None:
    shelf = SimulatedShelf(seed=9, shopper_rate=0)
    key = max(shelf.slots, key=lambda k: shelf.slots[k].product.units_per_hour)
    shelf.hide(key, reveal_after_s=4 * 3600)
    assert shelf.hidden_slots() == {key} and shelf.truth()[key] == "stocked"
    lost_before = shelf.lost_units
    sales = shelf.step(3 * 3600)
    assert not [s for s in sales if (s.row, s.slot) == key]
    assert shelf.lost_units > lost_before
    assert shelf.slots[key].units == shelf.slots[key].capacity  # nothing left the shelf
    shelf.step(3600 + 60)  # staff notice on their rounds, unasked
    assert shelf.hidden_slots() == set()
    shelf.hide(key)
    shelf.reveal(key)  # or sooner, when advice sends them
    assert shelf.hidden_slots() == set()


def test_staff_actions_put_a_slot_right_now() -> None:
    shelf = SimulatedShelf(seed=10, shopper_rate=0)
    key = (1, 1)
    shelf.slots[key].units = 0
    shelf.restock(key)
    assert shelf.truth()[key] == "stocked"
    shelf.misplace(key)
    assert shelf.truth()[key] == "wrong_product"
    shelf.fix(key)
    assert shelf.truth()[key] == "stocked"
    SimulatedShelf.make_messy(shelf.slots[key], np.random.default_rng(1))
    shelf.tidy(key)
    assert shelf.truth()[key] == "stocked"
