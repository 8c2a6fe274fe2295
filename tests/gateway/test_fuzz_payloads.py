"""Property-based fuzzing of every payload kind the gateway accepts, through the real
ingest path (queue, writer thread, SQLite) and then the API that reads it back.

Whatever arrives, exactly one thing happens to it: it is stored (or recognised as a
duplicate or a stale state), or it becomes a dead letter whose reason starts with its
topic. The writer thread never dies, and the API still answers 200 on what was stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.contract.messages import EventType, SlotStatus
from edge.contract.topics import TopicKind
from gateway.mqtt.ingest import WRITER_COUNTERS, Ingest
from gateway.storage.connection import Database
from gateway.storage.dead_letters import list_dead_letters
from gateway.web.app import create_app
from tests.support.auth_support import admin_client

STORE, CAMERA = "store-1", "cam-1"
KINDS = [TopicKind.AVAILABILITY, TopicKind.STATE, TopicKind.EVENTS, TopicKind.HEALTH]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Harness:
    """A real Ingest over a real database, fed one message at a time."""

    def __init__(self, folder: Path) -> None:
        self.db = Database.in_dir(folder)
        self.db.open()
        self.ingest = Ingest(self.db, max_payload_bytes=4096)
        self.ingest.start()
        self.api = admin_client(create_app(self.db))
        self._cameras = 0

    def new_camera(self) -> str:
        """A camera never seen before: what it sends is its latest state and health, so
        the API must serve exactly that."""
        self._cameras += 1
        return f"cam-{self._cameras}"

    def send(self, topic: str, payload: bytes, retained: bool = False) -> str:
        """Ingest one message; returns the counter it moved (exactly one must move)."""
        before = self.ingest.counters.as_dict()
        self.ingest.submit(topic, payload, retained)
        assert self.ingest.wait_idle(10), "the writer thread is stuck or dead"
        assert self.ingest._thread is not None and self.ingest._thread.is_alive()
        after = self.ingest.counters.as_dict()
        moved = [k for k in WRITER_COUNTERS if after[k] != before[k]]
        assert len(moved) == 1 and after[moved[0]] == before[moved[0]] + 1, (moved, after)
        if moved == ["dead_letters"]:
            reason = list_dead_letters(self.db, 1)[0]["reason"]
            assert reason.startswith(f"{topic}: ") and len(reason) > len(topic) + 2, reason
            # A payload fault is named as such; "database error" is for a failing disk.
            assert "database error" not in reason, reason
        return moved[0]

    def api_still_answers(self) -> None:
        for path in ("/api/cameras", "/api/events?limit=5", "/api/dead-letters?limit=5"):
            response = self.api.get(path)
            assert response.status_code == 200, (path, response.text[:500])

    def close(self) -> None:
        self.ingest.stop()
        self.db.close()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = Harness(tmp_path_factory.mktemp("fuzz-db"))
    yield h
    h.close()


def topic(kind: TopicKind, camera: str = CAMERA) -> str:
    return f"shelfsense/{STORE}/{camera}/{kind.value}"


# ---- strategies ----------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
EDGE_VALUES = [
    *(float("inf"), float("-inf"), float("nan"), 1e308, -1e308, 5e-324),
    *(-1, 0, 2**63 - 1, 2**63, 2**64),
    *("", "x" * 5000, "\x00", "\ud800", None, [], {}, True),
]
"""Values at the edges of what JSON, SQLite and the API can hold."""
edge_values = st.sampled_from(EDGE_VALUES)
timestamps = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(datetime.isoformat) | st.sampled_from(
    ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "2026-01-01T00:00:00"]
)
fractions = st.floats(min_value=0, max_value=1)
counts = st.integers(0, 2**63 - 1)
statuses = st.sampled_from([s.value for s in SlotStatus])
slot_readings = st.fixed_dictionaries(
    {"row": st.integers(0, 50), "slot": st.integers(0, 50), "status": statuses},
    optional={
        "sku": st.none() | st.text(max_size=14),
        "confidence": fractions,
        "gap_fraction": fractions,
        "since": timestamps,
    },
)
detections = st.fixed_dictionaries(
    {
        "label": st.text(max_size=8),
        "score": fractions,
        "box": st.tuples(*[st.floats(-2, 2)] * 4),
    }
)

FIELDS: dict[TopicKind, tuple[dict[str, Any], dict[str, Any]]] = {
    TopicKind.AVAILABILITY: ({"state": st.sampled_from(["online", "offline"])}, {}),
    TopicKind.STATE: (
        {"seq": counts},
        {
            "slots": st.lists(slot_readings, max_size=6),
            "detections": st.lists(detections, max_size=3),
            "score": st.none() | fractions,
            "layout_version": st.none() | st.text(max_size=20),
            "occluded": st.booleans(),
            "model": st.none() | st.text(max_size=20),
        },
    ),
    TopicKind.EVENTS: (
        {
            "id": st.text(min_size=8, max_size=64),
            "type": st.sampled_from([t.value for t in EventType]),
        },
        {
            "row": st.none() | counts,
            "slot": st.none() | counts,
            "sku": st.none() | st.text(max_size=14),
            "status": st.none() | statuses,
            "previous": st.none() | statuses,
            "confidence": fractions,
            "detail": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        },
    ),
    TopicKind.HEALTH: (
        {"uptime_s": st.floats(0, 1e12), "frames_processed": counts},
        {
            "frames_failed": counts,
            "camera_ok": st.booleans(),
            "last_error": st.none() | st.text(max_size=200),
            "inference_ms": st.none() | st.floats(0, 1e6),
            "fps": st.none() | st.floats(0, 1e3),
            "cpu_temp_c": st.none() | st.floats(-300, 300),
            "outbox_pending": counts,
            "outbox_dropped": counts,
            "model": st.none() | st.text(max_size=20),
        },
    ),
}


def valid_fields(kind: TopicKind, camera: str = CAMERA) -> st.SearchStrategy[dict[str, Any]]:
    """A payload a node could send (as a JSON-ready dict)."""
    required, optional = FIELDS[kind]
    return st.fixed_dictionaries(
        {"store": st.just(STORE), "camera": st.just(camera)} | required,
        optional={"schema_version": st.just(1), "ts": timestamps} | optional,
    )


def mutated(kind: TopicKind, camera: str = CAMERA) -> st.SearchStrategy[bytes]:
    """A valid payload with a few faults: values replaced by odd or edge ones, a key
    dropped, an unknown key, a wrong schema version, the text cut short."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = draw(valid_fields(kind, camera))
        keys = sorted(data)
        for key in draw(st.lists(st.sampled_from(keys), max_size=2)):
            data[key] = draw(edge_values | json_values)
        if draw(st.booleans()):
            data[draw(st.text(max_size=10))] = draw(json_values)
        if draw(st.integers(0, 5)) == 0:
            data.pop(draw(st.sampled_from(keys)), None)
        if draw(st.integers(0, 9)) == 0:
            data["schema_version"] = draw(st.sampled_from([0, 2, "1", 1.5]))
        text = json.dumps(data)  # NaN and Infinity become the non-JSON tokens some parsers take
        if draw(st.integers(0, 9)) == 0:  # cut short, as a broken connection would
            text = text[: draw(st.integers(0, len(text)))]
        return text.encode()

    return build()


# ---- properties ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@FUZZ
@given(data=st.data())
def test_any_payload_is_stored_or_dead_lettered(harness: Harness, kind: TopicKind, data) -> None:
    payload = data.draw(mutated(kind))
    retained = (
        data.draw(st.booleans()) if kind in (TopicKind.STATE, TopicKind.AVAILABILITY) else False
    )
    harness.send(topic(kind), payload, retained)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@FUZZ
@given(payload=st.binary(max_size=6000) | json_values.map(lambda v: json.dumps(v).encode()))
def test_garbage_becomes_a_dead_letter(harness: Harness, kind: TopicKind, payload: bytes) -> None:
    outcome = harness.send(topic(kind), payload)
    assert outcome in ("dead_letters", "ignored")  # ignored: an empty payload, nothing to store


@FUZZ
@given(
    topic_text=st.text(max_size=80) | st.lists(st.text(max_size=12), max_size=6).map("/".join),
    payload=st.binary(max_size=200),
)
def test_any_topic_is_handled(harness: Harness, topic_text: str, payload: bytes) -> None:
    if not topic_text or not payload:
        return  # paho never delivers an empty topic; an empty payload is covered above
    harness.send(topic_text, payload)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_valid_payloads_are_stored_and_served(harness: Harness, kind: TopicKind, data) -> None:
    """Payloads the node could have sent are never dead letters, and the API serves them."""
    camera = harness.new_camera()
    fields = data.draw(valid_fields(kind, camera))
    age_s = data.draw(st.integers(0, 10**6))
    fields["ts"] = (datetime.now(UTC) - timedelta(seconds=age_s)).isoformat()
    outcome = harness.send(topic(kind, camera), json.dumps(fields).encode())
    assert outcome != "dead_letters", list_dead_letters(harness.db, 1)[0]["reason"]
    harness.api_still_answers()


EXAMPLE: dict[TopicKind, dict[str, Any]] = {
    TopicKind.AVAILABILITY: {"state": "online"},
    TopicKind.STATE: {
        "seq": 3,
        "slots": [{"row": 0, "slot": 1, "status": "empty", "sku": "4006381333931"}],
        "detections": [{"label": "gap", "score": 0.9, "box": [0.1, 0.1, 0.2, 0.3]}],
        "score": 0.5,
    },
    TopicKind.EVENTS: {"id": "evt-edge-0000", "type": "gap_opened", "row": 0, "slot": 1},
    TopicKind.HEALTH: {"uptime_s": 5.0, "frames_processed": 9, "inference_ms": 40.0},
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
def test_every_field_at_every_edge_value(harness: Harness, kind: TopicKind) -> None:
    """Not random: each field of each payload, set to each edge value in turn."""
    base = EXAMPLE[kind] | {"store": STORE, "ts": datetime.now(UTC).isoformat()}
    fields = ["ts", "schema_version", *FIELDS[kind][0], *FIELDS[kind][1]]
    for field in fields:
        for value in EDGE_VALUES:
            camera = harness.new_camera()
            payload = base | {"camera": camera, field: value}
            if kind is TopicKind.EVENTS:
                payload["id"] = value if field == "id" else f"evt-{camera}"
            text = json.dumps(payload).encode("utf-8", errors="surrogatepass")
            if harness.send(topic(kind, camera), text) == "stored":
                harness.api_still_answers()
