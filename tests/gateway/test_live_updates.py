"""The live-update broadcaster: what each subscriber may see, and that a slow or gone
client never holds up the publisher."""

from __future__ import annotations

import asyncio
import threading

from gateway.live.updates import Broadcaster, LiveUpdate, LiveView


def slots_update(store: str = "s1") -> LiveUpdate:
    return LiveUpdate(
        "slots",
        store,
        {
            "store": store,
            "camera": "c1",
            "score": 0.8,
            "slots": [
                {"row": 0, "slot": 0, "brand": "Acme", "sku": "1", "status": "empty"},
                {"row": 0, "slot": 1, "brand": "Zest", "sku": "2", "status": "stocked"},
            ],
        },
    )


def advice_update(brand: str, store: str = "s1") -> LiveUpdate:
    return LiveUpdate("advice", store, {"id": 1, "store": store, "brand": brand})


def test_a_view_keeps_its_store_and_its_brand_only() -> None:
    everyone = LiveView()
    assert everyone.apply(slots_update()) == slots_update().data
    staff = LiveView(store="s2")
    assert staff.apply(slots_update("s1")) is None
    assert staff.apply(slots_update("s2")) is not None
    brand = LiveView(brand="acme")
    seen = brand.apply(slots_update())
    assert seen is not None and [s["brand"] for s in seen["slots"]] == ["Acme"]
    assert "score" not in seen  # a bay's score speaks of every brand on it
    assert brand.apply(advice_update("Zest")) is None
    assert brand.apply(advice_update("ACME")) == advice_update("ACME").data
    hiding = LiveView(brand="Acme", advice=lambda record: None)
    assert hiding.apply(advice_update("Acme")) is None
    owner = LiveView(brand="Acme", owns=lambda sku: sku == "2")
    seen = owner.apply(slots_update())
    assert seen is not None and [s["sku"] for s in seen["slots"]] == ["2"]


def test_a_slow_client_loses_the_oldest_updates_and_is_told_to_resync() -> None:
    broadcaster = Broadcaster(queue_size=4)

    async def scenario() -> None:
        sub = broadcaster.subscribe(LiveView())
        # Published from another thread while nobody drains: publish returns each time.
        publisher = threading.Thread(
            target=lambda: [
                broadcaster.publish(LiveUpdate("advice", "s1", {"id": i, "brand": None}))
                for i in range(10)
            ]
        )
        publisher.start()
        publisher.join(5)
        assert not publisher.is_alive()
        assert await sub.wait(1.0)
        drained = sub.drain()
        assert [data["id"] for _, data in drained] == [6, 7, 8, 9]
        assert sub.lagged
        assert not await sub.wait(0.05)  # nothing new
        sub.close()
        assert broadcaster.subscribers == 0
        broadcaster.publish(slots_update())  # nobody left: still fine

    asyncio.run(scenario())


def test_closing_the_broadcaster_ends_every_stream() -> None:
    broadcaster = Broadcaster()

    async def scenario() -> None:
        subs = [broadcaster.subscribe(LiveView(store=f"s{i}")) for i in (1, 2, 3)]
        broadcaster.publish(slots_update("s1"))
        broadcaster.close()
        assert all(s.closed for s in subs) and broadcaster.subscribers == 0
        assert await subs[0].wait(0.5)
        assert [kind for kind, _ in subs[0].drain()] == ["slots"]
        assert subs[1].drain() == []

    asyncio.run(scenario())
