"""The node pipeline on a simulated shelf, frame by frame in simulated time: shoppers in
front never open a gap, a slot refilled with the wrong product is reported once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from edge.contract.messages import EventType, SlotStatus
from edge.node import CameraNode
from edge.settings import NodeSettings
from edge.sources.simulator import SimulatorSource
from models.synth import SimulatedShelf
from models.synth.shopper import Shopper
from tests.support.edge_nodes import synthetic_model

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def node_on(shelf: SimulatedShelf, clock: Clock) -> CameraNode:
    settings = NodeSettings.model_validate(
        {
            "store": "s1",
            "camera": "c1",
            "mqtt": {"url": "mqtt://127.0.0.1:1"},
            "source": {"kind": "simulator"},
            "detector": {"model": str(synthetic_model()), "threads": 1, "warmup_runs": 0},
            "occlusion": {"person_detector": "none"},
        }
    )
    return CameraNode(settings, source=SimulatorSource(shelf, speedup=1.0, clock=clock))


def run(node: CameraNode, clock: Clock, frames: int) -> list:
    events = []
    for _ in range(frames):
        clock.t += 1.0  # one simulated second per frame: nothing sells meanwhile
        _, new = node.process(node.source.read(), now=T0 + timedelta(seconds=clock.t))
        events += new
    return events


def slot_status(node: CameraNode, key: tuple[int, int]) -> SlotStatus:
    assert node.last_result is not None
    return next(s.status for s in node.last_result.slots if (s.row, s.slot) == key)


def test_a_shopper_in_front_never_opens_a_gap_and_a_misplaced_product_is_reported() -> None:
    shelf = SimulatedShelf(seed=51, shopper_rate=0)
    clock = Clock()
    node = node_on(shelf, clock)
    assert [e for e in run(node, clock, 5) if e.type == EventType.GAP_OPENED] == []

    shopper = Shopper(
        x=0.5, width=0.35, top=0.05, shirt=(60, 60, 200), skin=(90, 120, 170), hair=(20, 20, 20)
    )
    shelf.plant_shopper(shopper, stay_s=8)
    events = run(node, clock, 6)
    hidden = [k for k in shelf.render().occluded]
    assert hidden, "the planted shopper hides some slots"
    assert any(slot_status(node, k) == SlotStatus.OCCLUDED for k in hidden)
    assert [e for e in events if e.type == EventType.GAP_OPENED] == []
    run(node, clock, 5)  # they leave

    # Staff refill a slot that ran low with the neighbour's product.
    key = (1, 2)
    stock = shelf.slots[key]
    stock.units = stock.depth * (stock.facings - 1) if stock.facings > 1 else 0
    low = run(node, clock, 3)
    assert {e.type for e in low if (e.row, e.slot) == key} & {
        EventType.LOW_STOCK,
        EventType.GAP_OPENED,
    }
    shelf.misplace(key)
    events = [e for e in run(node, clock, 6) if (e.row, e.slot) == key]
    assert [e.type for e in events if e.type == EventType.WRONG_PRODUCT] == [
        EventType.WRONG_PRODUCT
    ]
    wrong = next(e for e in events if e.type == EventType.WRONG_PRODUCT)
    assert wrong.sku == shelf.layout.rows[1].slots[2].sku
    assert wrong.detail["appearance"] < 0.85
    assert slot_status(node, key) == SlotStatus.WRONG_PRODUCT
    assert node.last_result.score < 1.0


def test_learned_references_are_read_back_after_a_restart(tmp_path) -> None:
    from edge.pipeline import ShelfPipeline

    shelf = SimulatedShelf(seed=52, shopper_rate=0)
    settings = NodeSettings.model_validate(
        {
            "store": "s1",
            "camera": "c1",
            "source": {"kind": "simulator"},
            "occlusion": {"person_detector": "none"},
            "state_dir": str(tmp_path),
        }
    )
    first = ShelfPipeline(settings, shelf.layout)
    for i in range(5):  # no detections: every slot reads stocked, every facing is learned
        first.process(shelf.render().image, [], T0 + timedelta(seconds=i))
    keys = [(r.index, s.index) for r, s, _ in shelf.layout.slot_boxes()]
    assert first.book is not None and all(first.book.learned(k) for k in keys)
    assert (tmp_path / f"references-{shelf.layout.version}.npz").is_file()
    again = ShelfPipeline(settings, shelf.layout)
    assert again.book is not None
    assert [again.book.learned(k) for k in keys] == [first.book.learned(k) for k in keys]
