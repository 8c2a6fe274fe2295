"""Facing references: the same product under other light still matches; a neighbour's
product in its place does not, and is recognised as the neighbour's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.appearance import FramePlanes, ReferenceBook
from models.synth import SimulatedShelf


def learned_book(shelf: SimulatedShelf) -> ReferenceBook:
    book = ReferenceBook(shelf.layout, learn_frames=3)
    for _ in range(3):
        planes = FramePlanes.of(shelf.render().image)
        for key in book_keys(book):
            assert book.check(planes, key, range(len(book.facings(key)))) is None
    return book


def book_keys(book: ReferenceBook) -> list[tuple[int, int]]:
    return sorted(book._boxes)  # the layout's slots


def verdicts(book: ReferenceBook, image: np.ndarray) -> dict:
    planes = FramePlanes.of(image)
    return {key: book.check(planes, key, range(len(book.facings(key)))) for key in book_keys(book)}


def relit(image: np.ndarray, gain: float, cast: tuple[float, float, float]) -> np.ndarray:
    return np.clip(image.astype(np.float32) * gain * np.float32(cast), 0, 255).astype(np.uint8)


def test_the_same_shelf_under_other_light_matches_its_references() -> None:
    shelf = SimulatedShelf(seed=31, shopper_rate=0)
    book = learned_book(shelf)
    for image in (
        shelf.render().image,
        relit(shelf.render().image, 0.7, (1.0, 1.0, 1.0)),
        relit(shelf.render().image, 0.85, (1.12, 1.0, 0.9)),  # dimmer and warmer
    ):
        found = verdicts(book, image)
        assert all(v is not None and not v.departs for v in found.values()), {
            k: (round(v.colour, 3), round(v.structure, 3)) for k, v in found.items() if v.departs
        }


def test_a_slot_refilled_with_its_neighbours_product_is_recognised() -> None:
    shelf = SimulatedShelf(seed=32, shopper_rate=0)
    book = learned_book(shelf)
    misplaced = [(0, 1), (2, 3)]
    for key in misplaced:
        shelf.misplace(key)
    found = verdicts(book, shelf.render().image)
    for key in misplaced:
        verdict = found[key]
        assert verdict.departs and verdict.likely_wrong, (key, verdict)
        shown = shelf.slots[key].on_shelf.gtin
        if verdict.looks_like is not None:  # if it names a slot, it is one with that product
            assert shelf.slots[verdict.looks_like].product.gtin == shown
    assert [k for k, v in found.items() if v.departs] == misplaced


def test_references_survive_a_restart(tmp_path: Path) -> None:
    shelf = SimulatedShelf(seed=33, shopper_rate=0)
    book = learned_book(shelf)
    path = tmp_path / f"references-{shelf.layout.version}.npz"
    book.save(path)
    again = ReferenceBook(shelf.layout, learn_frames=3)
    assert again.load(path)
    assert all(again.learned(k) == len(again.facings(k)) for k in book_keys(again))
    shelf.misplace((1, 0))
    found = verdicts(again, shelf.render().image)
    assert found[(1, 0)].departs and not found[(0, 0)].departs
    assert not ReferenceBook(shelf.layout).load(tmp_path / "missing.npz")
