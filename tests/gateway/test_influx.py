"""InfluxDB export against a real InfluxDB-compatible server (VictoriaMetrics takes the same
/api/v2/write line protocol): what is written, that ingest never waits for it, and that
points queued while the server is away arrive once it is back."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.contract import SlotStatus
from edge.contract.config_file import ConfigError
from edge.contract.topics import pos_sales_topic
from edge.layout import with_check_digit
from gateway.cli import main as cli
from gateway.config.settings import InfluxSettings, load_settings
from gateway.export.influx import (
    CAMERA_HEALTH,
    MEASUREMENTS,
    SALES,
    STATUS_CODES,
    InfluxExporter,
    points_for,
    time_ns,
)
from gateway.retail.pos import SaleLine
from gateway.storage.health import health_history
from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    CAMERA,
    STORE,
    TOPICS,
    MqttClient,
    availability,
    health,
    running_gateway,
    settings_for,
    settle,
    shelf_event,
    shelf_state,
    wait_until,
)
from tests.support.paths import REPO
from tests.support.services import Mosquitto, VictoriaMetrics

SKU = with_check_digit("400638133393")
FAST_RETRY = {"retry_min_s": 0.1, "retry_max_s": 0.5, "flush_interval_s": 0.1}


def sale(line_id: str, quantity: int = 2, ago: timedelta = timedelta(hours=1)) -> SaleLine:
    return SaleLine(
        id=line_id,
        time=datetime.now(UTC) - ago,
        store=STORE,
        sku=SKU,
        quantity=quantity,
        unit_price="1.25",
        currency="EUR",
    )


def wait_series(
    server: VictoriaMetrics, match: str, samples: int, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Poll until the matching series hold at least `samples` samples in all."""

    def found() -> list[dict[str, Any]] | None:
        series = server.series(match)
        return series if sum(len(s["values"]) for s in series) >= samples else None

    return wait_until(found, timeout, f"{samples} samples of {match} in VictoriaMetrics")


def by_name(series: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for s in series:
        grouped.setdefault(s["metric"]["__name__"], []).append(s)
    return grouped


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A VictoriaMetrics whose port is chosen but which is not started yet."""
    server = VictoriaMetrics(tmp_path / "vm")
    yield server
    if server.process is not None and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)  # in case a test left it paused
    server.stop()


# ---- points --------------------------------------------------------------------------


def test_every_point_uses_declared_names_only() -> None:
    now = datetime.now(UTC)
    state = shelf_state(statuses=(SlotStatus.STOCKED, SlotStatus.EMPTY))
    points = [
        *points_for(health(), now),
        *points_for(availability("offline"), now),
        *points_for(state, now),
        *points_for(sale("P-1"), now),
        *points_for(shelf_event(), now),  # events are not exported
    ]
    assert [p.measurement for p in points] == [
        "camera_health",
        "camera_health",
        "display_score",
        "slot_state",
        "slot_state",
        "sales",
    ]
    for p in points:
        declared = MEASUREMENTS[p.measurement]
        assert set(p.tags) <= set(declared.tags) and set(p.fields) <= set(declared.fields)
    offline = points[1]
    assert offline.fields == {"online": 0} and offline.time_ns == time_ns(now)
    empty_slot = points[4]
    assert empty_slot.tags["status"] == "empty" and empty_slot.tags["slot"] == "1"
    assert empty_slot.fields["status_code"] == STATUS_CODES[SlotStatus.EMPTY]
    assert points[5].fields == {"quantity": 2, "unit_price": 1.25, "revenue": 2.5}
    with pytest.raises(ValueError, match="undeclared"):
        CAMERA_HEALTH.point(now, {"store": STORE}, {"temperature": 3.0})


def test_two_lines_of_one_sku_in_the_same_second_stay_two_points() -> None:
    first, second = sale("basket-1"), sale("basket-2")
    second = second.model_copy(update={"time": first.time})
    a, b = points_for(first, first.time)[0], points_for(second, second.time)[0]
    assert a.tags == b.tags and a.time_ns != b.time_ns
    assert abs(a.time_ns - b.time_ns) < 1_000_000  # under a millisecond apart


# ---- the exporter against a real server ----------------------------------------------


def test_a_full_queue_drops_the_oldest_and_the_rest_arrive_when_the_server_returns(
    victoria: VictoriaMetrics,
) -> None:
    exporter = InfluxExporter(
        InfluxSettings(
            url=victoria.url,
            org="shop",
            bucket="shelfsense",
            max_queued_points=100,
            batch_size=40,
            **FAST_RETRY,
        )
    )
    exporter.start()
    try:
        base = datetime.now(UTC) - timedelta(minutes=10)
        for i in range(250):
            exporter.export(
                SALES.point(
                    base + timedelta(seconds=i),
                    {"store": STORE, "sku": SKU},
                    {"quantity": i + 1, "unit_price": 1.0, "revenue": float(i + 1)},
                )
            )
        wait_until(lambda: exporter.failures >= 2, what="failed writes while the server is down")
        assert exporter.written == 0
        assert exporter.queue_depth == 100 and exporter.dropped == 150
        victoria.start()
        assert exporter.flush(30), exporter.last_error
        assert (exporter.written, exporter.dropped, exporter.queue_depth) == (100, 150, 0)
    finally:
        exporter.stop()
    [series] = wait_series(victoria, '{__name__="sales_quantity"}', 100)
    assert sorted(series["values"]) == list(range(151, 251))  # the newest 100


def test_gateway_exports_what_it_stores_once_influx_comes_back(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    settings = settings_for(
        mosquitto.url,
        tmp_path / "data",
        influx={"url": victoria.url, "org": "shop", "bucket": "shelfsense", **FAST_RETRY},
    )
    node = MqttClient(mosquitto.url, "test-node")
    try:
        with running_gateway(settings) as gateway:
            node.publish(TOPICS.availability, availability("online"), retain=True)
            settle(gateway, 1)  # retained: in even if the subscription came late; now it is on
            node.publish(TOPICS.health, health())
            node.publish(TOPICS.state, shelf_state(seq=5))
            node.publish(TOPICS.events, shelf_event("evt-influx-01"))
            node.publish(
                pos_sales_topic(STORE), sale("MQ-1", quantity=3).model_dump_json().encode()
            )
            settle(gateway, 5)
            api = admin_client(gateway.app)
            body = api.post(
                "/api/pos/sales", json={"sales": [sale("API-1").model_dump(mode="json")]}
            ).json()
            assert body["accepted"] == 1

            # All of it is in SQLite while InfluxDB is away; the points wait in the queue.
            assert api.get(f"/api/cameras/{STORE}/{CAMERA}").json()["state"]["seq"] == 5
            assert len(api.get("/api/pos/sales").json()) == 2
            wait_until(lambda: gateway.counters["influx_failures"] > 0, what="a failed write")
            counters = gateway.counters
            assert counters["influx_written"] == 0
            # online + health + display score + 2 slots + 2 sales
            assert counters["influx_queue_depth"] == counters["influx_queued"] == 7

            victoria.start()
            wait_until(
                lambda: gateway.counters["influx_written"] == 7,
                timeout=30,
                what="the 7 queued points written",
            )
            assert gateway.counters["influx_dropped"] == 0
    finally:
        node.close()

    metrics = by_name(wait_series(victoria, '{__name__=~"(camera_health|display_score).*"}', 11))
    [online] = metrics["camera_health_online"]
    assert online["metric"] == {
        "__name__": "camera_health_online",
        "store": STORE,
        "camera": CAMERA,
    }
    assert online["values"] == [1]
    assert metrics["camera_health_inference_ms"][0]["values"] == [41.5]
    assert metrics["camera_health_frames_processed"][0]["values"] == [340]
    assert metrics["display_score_score"][0]["values"] == [0.5]

    slots = wait_series(victoria, '{__name__="slot_state_status_code"}', 2)
    assert sorted((s["metric"]["slot"], s["metric"]["status"], s["values"]) for s in slots) == [
        ("0", "stocked", [0]),
        ("1", "empty", [2]),
    ]
    assert all(s["metric"]["sku"] and s["metric"]["row"] == "0" for s in slots)

    quantities = wait_series(victoria, '{__name__="sales_quantity"}', 2)
    assert sorted(v for s in quantities for v in s["values"]) == [2, 3]
    assert {s["metric"]["currency"] for s in quantities} == {"EUR"}
    revenue = wait_series(victoria, '{__name__="sales_revenue"}', 2)
    assert sorted(v for s in revenue for v in s["values"]) == [2.5, 3.75]


def test_ingest_does_not_wait_for_a_hung_influx(
    mosquitto: Mosquitto, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    """VictoriaMetrics paused (SIGSTOP) accepts connections and never answers: the worst
    case for a writer that could block. Every message is stored meanwhile."""
    victoria.start()
    assert victoria.process is not None
    os.kill(victoria.process.pid, signal.SIGSTOP)
    settings = settings_for(
        mosquitto.url,
        tmp_path / "data",
        influx={
            "url": victoria.url,
            "org": "shop",
            "bucket": "shelfsense",
            "timeout_s": 1.0,
            "batch_size": 50,
            **FAST_RETRY,
        },
    )
    messages = 300
    node = MqttClient(mosquitto.url, "test-node")
    try:
        with running_gateway(settings) as gateway:
            # Retained, so it arrives even if the gateway's subscription is not active yet;
            # once it is in, so is the subscription.
            node.publish(TOPICS.availability, availability("online"), retain=True)
            settle(gateway, 1)
            start = datetime.now(UTC) - timedelta(minutes=30)
            for i in range(messages):
                node.publish(
                    TOPICS.health,
                    health().model_copy(update={"ts": start + timedelta(seconds=i)}),
                )
            settle(gateway, messages + 1, timeout=60)
            assert gateway.counters["stored"] == messages + 1
            assert len(health_history(gateway.db, STORE, CAMERA, limit=1000)) == messages
            assert gateway.counters["influx_written"] == 0
            assert gateway.counters["influx_queue_depth"] == messages + 1

            os.kill(victoria.process.pid, signal.SIGCONT)
            wait_until(
                lambda: gateway.counters["influx_written"] >= messages + 1,
                timeout=60,
                what="the queued points written",
            )
    finally:
        node.close()
    [series] = wait_series(victoria, '{__name__="camera_health_uptime_s"}', messages)
    # A batch whose answer was lost may be sent twice (InfluxDB keeps one point per
    # series and time; VictoriaMetrics keeps both): every point is there at least once.
    assert len(set(series["timestamps"])) == messages


# ---- settings ------------------------------------------------------------------------


def test_influx_settings_are_strict_and_read_the_token_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gateway.yaml"
    base = "influx:\n  url: http://influx:8086\n  org: shop\n  bucket: shelfsense\n"
    monkeypatch.setenv("INFLUX_TOKEN", "s3cret")
    path.write_text(base + "  token: ${INFLUX_TOKEN}\n  max_queued_points: 500\n")
    influx = load_settings(path).influx
    assert influx is not None and influx.token is not None
    assert influx.token.get_secret_value() == "s3cret" and "s3cret" not in repr(influx)
    assert (influx.max_queued_points, influx.batch_size) == (500, 1000)
    assert load_settings(write_config(tmp_path, "data_dir: d\n")).influx is None

    for text, expected in [
        (base + "  batchsize: 5\n", "influx.batchsize: unknown key"),
        (base.replace("http://influx:8086", "influx:8086"), "influx.url"),
        (base.replace("  org: shop\n", ""), "influx.org: Field required"),
        (base + "  retry_min_s: 10\n  retry_max_s: 1\n", "retry_max_s must not be less"),
        (base + "  max_queued_points: 5\n", "influx.max_queued_points"),
        ("pos:\n  timezone: Mars/Olympus\n", "pos.timezone: Value error, 'Mars/Olympus'"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(expected)):
            load_settings(write_config(tmp_path, text))


def write_config(folder: Path, text: str) -> Path:
    path = folder / "other.yaml"
    path.write_text(text)
    return path


def test_the_documented_measurements_are_the_declared_ones() -> None:
    """dashboards/README.md is what dashboard authors read: it must match MEASUREMENTS."""
    readme = REPO / "dashboards" / "README.md"
    documented = {}
    for row in readme.read_text().splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            tags, fields = ([n.strip() for n in c.split(",")] for c in cells[1:])
            documented[cells[0].strip("`")] = (tuple(tags), tuple(fields))
    assert documented == {m.name: (m.tags, m.fields) for m in MEASUREMENTS.values()}


def test_cli_import_exports_the_new_sales(victoria: VictoriaMetrics, tmp_path: Path) -> None:
    victoria.start()
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"data_dir: data\ninflux:\n  url: {victoria.url}\n  org: shop\n  bucket: shelfsense\n"
    )
    sold = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    sales_csv = tmp_path / "sales.csv"
    sales_csv.write_text(
        "id,time,store,sku,quantity,unit_price\n"
        + "".join(f"CLI-{i},{sold},{STORE},{SKU},{i},0.5\n" for i in range(1, 6))
    )
    assert cli.main(["pos", "import", str(sales_csv), "--config", str(config)]) == 0
    [series] = wait_series(victoria, '{__name__="sales_quantity"}', 5)
    assert sorted(series["values"]) == [1, 2, 3, 4, 5]
