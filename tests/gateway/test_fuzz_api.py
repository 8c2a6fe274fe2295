"""Schemathesis against the gateway's own OpenAPI document, in process (ASGI).

Every operation gets generated requests, valid ones and invalid ones; each response must
be a documented status with a body matching its schema, and never a server error. The
database behind it holds real rows (cameras, states, events, health, dead letters), so
the read paths serialise stored data, not empty lists.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway.mqtt.ingest import Ingest
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import admin_client, auth_headers
from tests.support.gateway_store import (
    TOPICS,
    availability,
    health,
    sample_layout,
    shelf_event,
    shelf_state,
)

FOLDER = Path(tempfile.mkdtemp(prefix="shelfsense-api-fuzz-"))
atexit.register(shutil.rmtree, FOLDER, ignore_errors=True)
DATABASE = Database.in_dir(FOLDER)
"""Made at import: schemathesis reads the app's schema when the tests are collected."""


def _admin_headers() -> dict[str, str]:
    DATABASE.open()
    try:
        return auth_headers(DATABASE)
    finally:
        DATABASE.close()


ADMIN = _admin_headers()
"""An admin's Authorization header, also made at import: schemathesis asks for it then."""


@pytest.fixture(scope="module", autouse=True)
def database() -> Iterator[Database]:
    db = DATABASE
    db.open()
    ingest = Ingest(db)
    for topic, message in (
        (TOPICS.availability, availability()),
        (TOPICS.state, shelf_state(seq=4)),
        (TOPICS.health, health()),
        (TOPICS.events, shelf_event("evt-api-fuzz-1")),
        (TOPICS.events, b'{"broken": '),
    ):
        ingest.submit(topic, message if isinstance(message, bytes) else message.to_json())
    ingest.start()
    assert ingest.wait_idle(10)
    ingest.stop()
    with db.transaction() as tx:
        tx.save_layout("store-1", "cam-1", sample_layout(), datetime.now(UTC))
    yield db
    db.close()


schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(DATABASE))


@schema.auth(refresh_interval=None)
class AdminToken:
    """Every generated request is an admin's (the OpenAPI document declares the bearer
    scheme); requests generated to test a missing token go without it."""

    def get(self, case: schemathesis.Case, ctx: object) -> str:
        return ADMIN["Authorization"]

    def set(self, case: schemathesis.Case, data: str, ctx: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_its_openapi_promises(case: schemathesis.Case) -> None:
    excluded = []
    if case.method == "PUT" and case.path == "/api/layouts/{store}/{camera}":
        # A layout has rules across fields (x0 < x1, no overlapping slots) that JSON Schema
        # cannot state: a schema-valid layout may still be refused, with a 422 naming why.
        excluded.append(positive_data_acceptance)
    if case.method == "POST" and case.path == "/api/cameras/{store}/{camera}/snapshot":
        # This API runs on a bare database: with no broker to ask a camera, its documented
        # answer is 503, which the server-error check would count as a crash.
        excluded.append(not_a_server_error)
    if case.path.startswith(("/api/models", "/api/rollouts")) and "/files/" not in case.path:
        # Model roll-outs need the running gateway; over a bare database their documented
        # answer is 503 (tests/system/test_model_rollout.py runs them for real).
        excluded += [not_a_server_error, positive_data_acceptance]
    if case.method in ("PUT", "POST") and case.path in (
        "/api/alerts/me/quiet-hours",
        "/api/alerts/me/channels",
    ):
        # An IANA zone name, a window with start before/after end, and a URL that fits
        # its channel kind are rules JSON Schema cannot state: refused with a 422 naming
        # the field.
        excluded.append(positive_data_acceptance)
    if case.method == "GET" and case.path == "/api/velocity":
        # Any date-time is schema-valid; a moment before 1971 has no sales window behind
        # it and is refused with a 422 naming `at`.
        excluded.append(positive_data_acceptance)
    if case.method == "GET" and case.path.startswith("/api/reports/"):
        # Any two date-times are schema-valid; `until` before `since`, or a range of more
        # buckets than a report answers, is refused with a 422 that names the limit.
        excluded.append(positive_data_acceptance)
    if case.method == "POST" and case.path.endswith(("/csv", "/planogram")):
        # Any bytes are a schema-valid file; only a UTF-8 CSV (or planogram JSON) of the
        # right shape is importable, and anything else is refused with a 422 that says why.
        excluded.append(positive_data_acceptance)
    if case.method == "POST" and case.path.endswith("/dismiss"):
        # The reason's schema asks for a non-space character (`\S`), but regex engines
        # disagree on what is a space (U+0085 is one to Python, not to the generator's):
        # a reason of such characters alone is refused with a 422 that says why.
        excluded.append(positive_data_acceptance)
    response = case.call_and_validate(excluded_checks=excluded)
    if response.status_code == 422:
        detail = response.json()["detail"]
        if isinstance(detail, str):  # a whole-file problem, in words
            assert detail.strip(), "an empty reason"
        for problem in detail if isinstance(detail, list) else []:
            assert problem["loc"] and problem["msg"], problem


def test_the_openapi_document_lists_every_route(database: Database) -> None:
    app = create_app(database)
    paths = set(app.openapi()["paths"])
    assert {"/api/health", "/api/cameras", "/api/events", "/api/dead-letters"} <= paths
    assert {"/api/cameras/{store}/{camera}", "/api/layouts/{store}/{camera}"} <= paths


def test_dead_letters_are_listed_with_their_reason(database: Database) -> None:
    letters = admin_client(create_app(database)).get("/api/dead-letters").json()
    assert letters and letters[0]["topic"] == TOPICS.events
    assert letters[0]["reason"].startswith(f"{TOPICS.events}: ")
