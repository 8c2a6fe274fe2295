"""The store gateway's feed to the head office: what the feeder builds from a real gateway
database (the report story of `tests.support.report_store`, stored through the real
ingest, catalogue and POS interfaces), sent through the real outbox and LocalTransport;
then the Gateway's wiring with a real Mosquitto and the Devices API."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from edge.contract import CameraTopics, EventType, ShelfEvent, SlotStatus
from gateway.app import Gateway
from gateway.config.settings import GatewaySettings, HqStoreProfile
from gateway.export.uplink_feed import STATE_FILE, UplinkFeeder
from gateway.export.uplink_open import open_uplink
from gateway.mqtt.ingest import Ingest
from gateway.retail import catalogue, pos
from gateway.storage.connection import Database
from gateway.uplink.contract import (
    Envelope,
    HourlyRollup,
    HourlySales,
    Kind,
    ProductFacts,
    SlotEvent,
    StoreProfile,
)
from gateway.uplink.outbox import Uplink
from gateway.uplink.settings import HqUplinkSettings
from gateway.uplink.transport import LocalTransport
from gateway.web.app import create_app
from tests.support import report_store as story
from tests.support.auth_support import admin_client, make_user
from tests.support.browser import ARTIFACTS, DESKTOP
from tests.support.gateway_store import MqttClient, settings_for, wait_until
from tests.support.services import free_port

T0 = story.T0
PROFILES = {
    "s1": HqStoreProfile(name="Corner s1", chain="Corner", region="DE-BE", currency="EUR"),
    "s2": HqStoreProfile(name="Corner s2", chain="Corner", lat=48.1, lon=11.6),
}
NOW = T0 + timedelta(hours=3, minutes=5)  # 11:05: the story's three hours have closed


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def store_story(db: Database, feeder: UplinkFeeder) -> None:
    """The story through the public interfaces, with the feeder listening to ingest;
    plus an extra sale, a return and a sale in another currency in the 08:00 hour."""
    with db.transaction() as tx:
        for (store, camera), layout in story.layouts().items():
            tx.save_layout(store, camera, layout, T0)
    catalogue.store_products(db, list(enumerate(story.catalogue_products())), [])
    ingest = Ingest(db)
    ingest.listeners.append(feeder.on_stored)
    for topic, payload in story.story_messages():
        ingest.submit(topic, payload)
    ingest.start()
    assert ingest.wait_idle(10), "ingest did not store the story"
    ingest.stop()
    extra = [
        story.sale("s1", "X1", story.COLA, 1, "1.70", T0 + timedelta(minutes=45)),
        story.sale("s1", "X2", story.COLA, -1, "1.50", T0 + timedelta(minutes=50)),
        pos.SaleLine(
            id="X3",
            time=T0 + timedelta(minutes=55),
            store="s1",
            sku=story.COLA.gtin,
            quantity=5,
            unit_price=Decimal("9.99"),
            currency="CHF",
        ),
    ]
    pos.store_lines(db, list(enumerate([*story.story_sales(), *extra])), [], source="api")


class Fed:
    def __init__(self, tmp_path: Path) -> None:
        self.db = Database.in_dir(tmp_path / "gw")
        self.db.open()
        self.transport = LocalTransport()
        self.consumer = self.transport.consumer("hq")
        self.clock = Clock(NOW)
        self.uplink = self.open_uplink(tmp_path)
        self.state = tmp_path / "gw" / STATE_FILE
        self.feeder = self.new_feeder()

    def open_uplink(self, tmp_path: Path) -> Uplink:
        settings = HqUplinkSettings(enabled=True, url="local", flush_interval_s=0.05)
        uplink = open_uplink(settings, tmp_path / "gw", sorted(PROFILES), self.transport)
        uplink.start()
        return uplink

    def new_feeder(self, catch_up: timedelta = timedelta(hours=6)) -> UplinkFeeder:
        return UplinkFeeder(
            self.db, PROFILES, self.uplink, self.state, catch_up=catch_up, clock=self.clock
        )

    def received(self) -> list[Envelope]:
        """Everything the head office gets once the outbox is drained (acked)."""
        assert self.uplink.flush(10), f"uplink did not drain: {self.uplink.status()}"
        got = []
        while batch := self.consumer.fetch(1000, timeout_s=0.2):
            for delivery in batch:
                got.append(delivery.envelope)
                delivery.ack()
        return got

    def close(self) -> None:
        self.uplink.stop()
        self.db.close()


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[Fed]:
    fed = Fed(tmp_path)
    store_story(fed.db, fed.feeder)
    yield fed
    fed.close()


def of_kind(envelopes: list[Envelope], kind: Kind) -> list[Envelope]:
    return [e for e in envelopes if e.kind is kind]


def rollup(envelopes: list[Envelope], store: str, camera: str, hour: datetime) -> HourlyRollup:
    found = [
        r
        for e in of_kind(envelopes, Kind.ROLLUP)
        if e.store == store
        and isinstance(r := e.parsed(), HourlyRollup)
        and r.camera == camera
        and r.hour == hour
    ]
    assert len(found) == 1, f"{store}/{camera} {hour}: {len(found)} rollups"
    return found[0]


def test_slot_events_go_up_keyed_by_their_own_id(fed: Fed) -> None:
    assert fed.feeder.drain() == 4
    events = of_kind(fed.received(), Kind.EVENT)
    assert sorted(e.id for e in events) == [f"s1:event:c1:evt-story-{n:04d}" for n in (1, 2, 3, 4)]
    first = next(e for e in events if e.id.endswith("0001")).parsed()
    assert isinstance(first, SlotEvent)
    assert (first.camera, first.row, first.slot) == ("c1", 1, 0)
    assert (first.event, first.status) == ("gap_opened", "empty")
    assert (first.sku, first.brand) == (story.LEMONADE.gtin, "Acme")
    assert first.at == T0 + timedelta(hours=1)


def test_hourly_rollups_carry_minutes_by_status_and_compliance(fed: Fed) -> None:
    assert fed.feeder.catch_up(NOW) == 6  # 05:00 .. 11:00, whole hours closed by 11:03
    got = fed.received()
    nine = rollup(got, "s1", "c1", T0 + timedelta(hours=1))
    minutes = {(s.row, s.slot): s.minutes for s in nine.slots}
    assert minutes[(1, 0)] == {"empty": 30.0, "stocked": 30.0}  # lemonade gap 09:00-09:30
    assert minutes[(0, 0)] == {"stocked": 60.0}
    assert nine.compliance == pytest.approx((600 - 3 * 30) / 600)
    lemonade = next(s for s in nine.slots if (s.row, s.slot) == (1, 0))
    assert (lemonade.sku, lemonade.brand, lemonade.facings) == (story.LEMONADE.gtin, "Acme", 3)
    ten = rollup(got, "s1", "c1", T0 + timedelta(hours=2))
    minutes = {(s.row, s.slot): s.minutes for s in ten.slots}
    assert minutes[(0, 1)] == {"wrong_product": 15.0, "stocked": 45.0}
    assert minutes[(0, 0)] == {"stocked": 50.0, "occluded": 10.0}
    assert ten.compliance == pytest.approx((600 - 2 * 15) / 600)  # occluded reads as stocked
    assert rollup(got, "s2", "c2", T0).compliance == 1.0
    # Before the story there was no slot history: no rollup for those hours.
    assert {r.parsed().hour for r in of_kind(got, Kind.ROLLUP)} == {
        T0 + timedelta(hours=h) for h in range(3)
    }


def test_hourly_sales_have_units_revenue_and_price_per_sku(fed: Fed) -> None:
    fed.feeder.catch_up(NOW)
    sales = {(e.store, e.parsed().hour): e.parsed() for e in of_kind(fed.received(), Kind.SALES)}
    assert set(sales) == {("s1", T0), ("s2", T0)}  # nothing sold in the later hours
    s1 = sales[("s1", T0)]
    assert isinstance(s1, HourlySales) and s1.currency == "EUR"
    lines = {line.sku: line for line in s1.lines}
    cola = lines[story.COLA.gtin]  # 3 x 1.50 + 1 x 1.70; the return and the CHF line left out
    assert (cola.units, cola.revenue) == (4.0, 6.2)
    assert cola.price == pytest.approx(1.55)
    chips = lines[story.CHIPS.gtin]
    assert (chips.units, chips.revenue, chips.price) == (2.0, 4.0, 2.0)
    assert [(line.units, line.revenue) for line in sales[("s2", T0)].lines] == [(1.0, 1.6)]


def test_product_facts_profile_and_health_at_start(fed: Fed) -> None:
    fed.feeder.send_start()
    got = fed.received()
    facts = {e.store: e.parsed() for e in of_kind(got, Kind.PRODUCTS)}
    s1 = facts["s1"]
    assert isinstance(s1, ProductFacts)
    assert s1.layout_version == story.store_1_layout().version
    products = {p.sku: p for p in s1.products}
    assert {
        sku: (p.brand, p.facings, p.shelf_level, p.share_of_shelf) for sku, p in products.items()
    } == {
        story.COLA.gtin: ("Acme", 2, 1, 0.2),
        story.CHIPS.gtin: ("Zest", 2, 1, 0.2),
        story.LEMONADE.gtin: ("Acme", 3, 2, 0.3),
        story.DIP.gtin: ("Zest", 1, 2, 0.1),
        story.WATER.gtin: ("Zest", 2, 3, 0.2),
    }
    assert facts["s2"].products[0].share_of_shelf == 1.0
    profiles = {e.store: e.parsed() for e in of_kind(got, Kind.PROFILE)}
    assert profiles["s1"] == StoreProfile(
        name="Corner s1", chain="Corner", region="DE-BE", currency="EUR"
    )
    assert (profiles["s2"].lat, profiles["s2"].lon) == (48.1, 11.6)
    health = {(e.store, e.parsed().camera): e.parsed() for e in of_kind(got, Kind.HEALTH)}
    assert set(health) == {("s1", "c1"), ("s2", "c2")}
    assert health[("s1", "c1")].last_seen is not None
    assert all(h.uplink_backlog is not None for h in health.values())


def test_a_rebuild_after_a_restart_gives_the_same_ids(fed: Fed) -> None:
    fed.feeder.send_start()
    fed.feeder.drain()
    first = fed.received()
    assert of_kind(first, Kind.ROLLUP) and of_kind(first, Kind.SALES)
    # A restart that lost the marker rebuilds everything: the same ids, dropped as duplicates.
    fed.state.unlink()
    before = fed.transport.duplicates
    again = fed.new_feeder()
    again.send_start()
    store_story(fed.db, again)  # the broker sends the events once more: ingest drops them
    assert again.drain() == 0
    assert fed.received() == []
    assert fed.transport.duplicates - before == len(first) - len(of_kind(first, Kind.EVENT))
    # With the marker, a restart rebuilds nothing; an hour later it builds that hour only.
    third = fed.new_feeder()
    assert third.catch_up(NOW) == 0
    fed.clock.now = NOW + timedelta(hours=1)
    assert third.catch_up(fed.clock.now) == 1
    assert {e.parsed().hour for e in of_kind(fed.received(), Kind.ROLLUP)} == {
        T0 + timedelta(hours=3)
    }


def test_catch_up_is_bounded(fed: Fed) -> None:
    later = NOW + timedelta(days=10)
    feeder = fed.new_feeder(catch_up=timedelta(days=7))
    assert feeder.catch_up(later) == 7 * 24
    hours = {e.parsed().hour for e in of_kind(fed.received(), Kind.ROLLUP)}
    assert min(hours) == T0 + timedelta(days=10, hours=3) - timedelta(days=7)
    assert max(hours) == T0 + timedelta(days=10, hours=2)


def test_a_changed_profile_is_a_new_fact_an_unchanged_one_is_not(fed: Fed) -> None:
    fed.feeder.send_profiles(NOW)
    ids = {e.id for e in of_kind(fed.received(), Kind.PROFILE)}
    assert len(ids) == 2
    restarted = fed.new_feeder()
    restarted.send_profiles(NOW + timedelta(days=1))
    assert fed.received() == []  # same profile, same id: a duplicate
    moved = dict(PROFILES, s1=PROFILES["s1"].model_copy(update={"name": "Corner s1 (new)"}))
    changed = UplinkFeeder(fed.db, moved, fed.uplink, fed.state, clock=fed.clock)
    changed.send_profiles(NOW + timedelta(days=2))
    new = of_kind(fed.received(), Kind.PROFILE)
    assert [(e.store, e.parsed().name) for e in new] == [("s1", "Corner s1 (new)")]


def test_the_uplink_is_off_by_default(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path)
    assert settings.hq.enabled is False and settings.hq.stores == {}
    gateway = Gateway(settings)
    assert gateway.uplink_status() is None
    db = Database.in_dir(tmp_path / "bare")
    db.open()
    try:
        client = admin_client(create_app(db), "installer")
        answer = client.get("/api/reports/devices/uplink")
        assert answer.status_code == 200, answer.text
        assert answer.json()["enabled"] is False
        assert (
            admin_client(create_app(db), "merchandiser")
            .get("/api/reports/devices/uplink")
            .status_code
            == 403
        )
    finally:
        db.close()
    with pytest.raises(ValueError, match="stores"):
        GatewaySettings.model_validate({"hq": {"enabled": True}})
    with pytest.raises(ValueError, match="hq_transport"):
        Gateway(GatewaySettings(data_dir=tmp_path, hq={"enabled": True, "stores": PROFILES}))


def test_a_gateway_feeds_node_messages_to_the_head_office(mosquitto, tmp_path: Path) -> None:
    """Real Mosquitto, the node's topics, the Gateway with `hq.url: local`."""
    transport = LocalTransport()
    consumer = transport.consumer("hq")
    settings = settings_for(
        mosquitto.url,
        tmp_path / "gw",
        hq={"enabled": True, "url": "local", "flush_interval_s": 0.05, "stores": PROFILES},
    )
    gateway = Gateway(settings, hq_transport=transport)
    gateway.start()
    node = MqttClient(mosquitto.url, "node-c1")
    got: list[Envelope] = []

    def received(kind: Kind) -> list[Envelope]:
        for delivery in consumer.fetch(100, timeout_s=0.05):
            got.append(delivery.envelope)
            delivery.ack()
        return of_kind(got, kind)

    try:
        assert gateway.wait_connected(10)
        gateway.set_layout("s1", "c1", story.store_1_layout())
        event = ShelfEvent(
            store="s1",
            camera="c1",
            id="evt-node-0001",
            type=EventType.GAP_OPENED,
            row=1,
            slot=0,
            previous=SlotStatus.STOCKED,
            status=SlotStatus.EMPTY,
        )
        node.publish(CameraTopics("s1", "c1").events, event)
        events = wait_until(lambda: received(Kind.EVENT), 10, "the event at the head office")
        assert [e.id for e in events] == ["s1:event:c1:evt-node-0001"]
        products = wait_until(lambda: received(Kind.PRODUCTS), 10, "product facts")
        assert products[0].parsed().layout_version == story.store_1_layout().version
        assert {e.store for e in wait_until(lambda: received(Kind.PROFILE), 10, "profiles")} == {
            "s1",
            "s2",
        }
        client = admin_client(gateway.app)
        status = wait_until(
            lambda: (s := client.get("/api/reports/devices/uplink").json())["sent"] and s,
            10,
            "the uplink status to show sent messages",
        )
        assert status["enabled"] is True and status["last_error"] is None
        assert status["last_sent_at"] is not None and status["dropped"] == 0
    finally:
        node.close()
        gateway.stop()
    assert gateway.uplink_status() is None
    assert (tmp_path / "gw" / "hq-outbox.db").exists() and (tmp_path / "gw" / STATE_FILE).exists()


@pytest.mark.slow
def test_the_devices_page_shows_the_uplink(browser: Any, mosquitto, tmp_path: Path) -> None:
    """Real Chromium: the Devices page's head-office panel of a feeding gateway."""
    port = free_port()
    settings = settings_for(
        mosquitto.url,
        tmp_path / "gw",
        http={"host": "127.0.0.1", "port": port},
        hq={"enabled": True, "url": "local", "flush_interval_s": 0.05, "stores": PROFILES},
    )
    transport = LocalTransport()
    transport.consumer("hq")  # a head office that keeps what it is sent
    gateway = Gateway(settings, hq_transport=transport)
    gateway.start()
    server = uvicorn.Server(
        uvicorn.Config(gateway.app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 10, "the API server to start")
        gateway.set_layout("s1", "c1", story.store_1_layout())
        wait_until(lambda: (s := gateway.uplink_status()) and s.sent, 10, "the uplink to send")
        name, password, _ = make_user(gateway.db, "installer")
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.goto(f"http://127.0.0.1:{port}/devices")
        page.wait_for_url(re.compile(r"/login\?next="))
        page.fill("#name", name)
        page.fill("#password", password)
        page.click("#submit")
        page.wait_for_selector("[data-uplink='on']", timeout=20_000)
        panel = page.locator("#uplink").inner_text()
        assert "null" not in panel and "undefined" not in panel, panel
        for label in ("Backlog", "Lag", "Dropped", "Last sent", "sending"):
            assert label.casefold() in panel.casefold(), panel
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-devices-uplink.png"), full_page=True)
    finally:
        server.should_exit = True
        thread.join(10)
        gateway.stop()
