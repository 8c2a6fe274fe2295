"""One wrong-product episode, one `wrong_product` event (issue 21, item 8).

A misplaced product stays misplaced while the slot also looks messy (or a shopper stands
in front): the node reported it again when the mess cleared, so one episode gave two
events and the simulator's precision halved. The episode ends only when the slot is seen
with its own product (stocked or low) or empty; a new misplacement after that is news.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from edge.analysis import SlotTracker
from edge.contract.messages import EventType, SlotReading, SlotStatus

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S = SlotStatus


def run(statuses: list[SlotStatus]) -> list[tuple[EventType, SlotStatus | None, SlotStatus]]:
    """Feed one slot's readings a frame apart; (event type, previous, status) in order."""
    tracker = SlotTracker("s1", "c1", confirm_frames=1)
    found = []
    for i, status in enumerate(statuses):
        reading = SlotReading(row=0, slot=0, sku="4006381333931", status=status)
        _, events = tracker.update([reading], T0 + timedelta(seconds=10 * i))
        found += [(e.type, e.previous, e.status) for e in events]
    return found


def wrong_events(statuses: list[SlotStatus]) -> int:
    return sum(kind == EventType.WRONG_PRODUCT for kind, _, _ in run(statuses))


def test_mess_or_a_shopper_inside_a_wrong_product_episode_does_not_repeat_it() -> None:
    events = run(
        [S.STOCKED, S.WRONG_PRODUCT, S.MESSY, S.WRONG_PRODUCT, S.OCCLUDED, S.WRONG_PRODUCT]
    )
    assert events == [
        (EventType.WRONG_PRODUCT, S.STOCKED, S.WRONG_PRODUCT),
        (EventType.MESSY, S.WRONG_PRODUCT, S.MESSY),
        (EventType.STATUS_CHANGED, S.MESSY, S.WRONG_PRODUCT),
    ]


def test_the_right_product_or_an_empty_slot_ends_the_episode() -> None:
    assert wrong_events([S.STOCKED, S.WRONG_PRODUCT, S.STOCKED, S.WRONG_PRODUCT]) == 2
    assert wrong_events([S.STOCKED, S.WRONG_PRODUCT, S.LOW, S.WRONG_PRODUCT]) == 2
    assert wrong_events([S.WRONG_PRODUCT, S.EMPTY, S.WRONG_PRODUCT]) == 2
    assert wrong_events([S.WRONG_PRODUCT, S.MESSY, S.STOCKED, S.MESSY, S.WRONG_PRODUCT]) == 2
