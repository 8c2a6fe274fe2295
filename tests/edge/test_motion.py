"""The motion gate on rendered shelves: shoppers hide slots, sold-out slots do not."""

from __future__ import annotations

import numpy as np

from edge.motion import MotionGate, PersonDetector
from edge.settings import OcclusionSettings
from models.synth import SimulatedShelf
from models.synth.shopper import Shopper

SETTINGS = OcclusionSettings(person_detector="none")
SHOPPER = Shopper(
    x=0.4, width=0.3, top=0.1, shirt=(40, 160, 60), skin=(90, 120, 170), hair=(20, 20, 30)
)


def rows(shelf: SimulatedShelf) -> list[tuple[float, float]]:
    return [(r.y0, r.y1) for r in shelf.layout.rows]


def hidden_by_gate(shelf: SimulatedShelf, result) -> set[tuple[int, int]]:
    return {
        (row.index, slot.index)
        for row, slot, box in shelf.layout.slot_boxes()
        if result.share(box) >= SETTINGS.occluded_fraction
    }


def test_a_shopper_hides_the_slots_the_simulator_says_are_hidden() -> None:
    shelf = SimulatedShelf(seed=21, shopper_rate=0)
    gate = MotionGate(SETTINGS)
    assert not gate.update(shelf.render().image, 0.0, rows(shelf)).ready
    assert gate.update(shelf.render().image, 10.0, rows(shelf)).people == []
    shelf.plant_shopper(SHOPPER, stay_s=600)
    frame = shelf.render()
    result = gate.update(frame.image, 20.0, rows(shelf))
    assert result.people and frame.occluded
    mine = hidden_by_gate(shelf, result)
    agree = len(mine & frame.occluded) / len(mine | frame.occluded)
    assert agree >= 0.8, (sorted(mine), sorted(frame.occluded))
    # Standing still, the shopper stays in front (the background does not learn them).
    for t in (30.0, 40.0, 50.0):
        frame = shelf.render()
        assert hidden_by_gate(shelf, gate.update(frame.image, t, rows(shelf))) == mine


def test_a_slot_selling_out_is_a_shelf_change_not_something_in_front() -> None:
    shelf = SimulatedShelf(seed=22, shopper_rate=0)
    gate = MotionGate(SETTINGS)
    gate.update(shelf.render().image, 0.0, rows(shelf))
    shelf.slots[(1, 2)].units = 0
    shelf.slots[(2, 4)].units = 0
    result = gate.update(shelf.render().image, 10.0, rows(shelf))
    box = next(b for r, s, b in shelf.layout.slot_boxes() if (r.index, s.index) == (1, 2))
    assert result.share(box, "moving") > 0.2  # it changed ...
    assert result.people == [] and result.share(box) == 0.0  # ... on the shelf
    # ... and is part of the background from the next frame on.
    assert gate.update(shelf.render().image, 20.0, rows(shelf)).share(box, "moving") < 0.05


def test_someone_in_front_longer_than_absorb_s_becomes_part_of_the_scene() -> None:
    shelf = SimulatedShelf(seed=23, shopper_rate=0)
    gate = MotionGate(OcclusionSettings(person_detector="none", absorb_s=60))
    gate.update(shelf.render().image, 0.0, rows(shelf))
    shelf.plant_shopper(SHOPPER, stay_s=10_000)
    seen = [
        bool(gate.update(shelf.render().image, t, rows(shelf)).people) for t in range(10, 130, 10)
    ]
    assert seen[:6] == [True] * 6
    assert seen[-1] is False


def test_lights_dimming_or_the_camera_moving_hide_nothing() -> None:
    shelf = SimulatedShelf(seed=24, shopper_rate=0)
    gate = MotionGate(SETTINGS)
    image = shelf.render().image
    gate.update(image, 0.0, rows(shelf))
    dimmer = (image.astype(np.float32) * 0.7).astype(np.uint8)
    assert gate.update(dimmer, 10.0, rows(shelf)).people == []
    moved = np.roll(dimmer, 60, axis=1)
    result = gate.update(moved, 20.0, rows(shelf))
    assert result.relearned and result.people == [] and not result.ready
    assert gate.update(moved, 30.0, rows(shelf)).people == []


def test_the_hog_person_detector_finds_nothing_on_an_empty_shelf() -> None:
    shelf = SimulatedShelf(seed=25, shopper_rate=0)
    assert PersonDetector().detect(shelf.render().image) == []
