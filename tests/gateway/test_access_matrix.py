"""The role x endpoint access test: every route of the OpenAPI document, called by every
role (and by nobody, and with a bad token), on a database with two stores and two brands.

`ACCESS` is this test's own statement of who may call what (README: Users and access).
A route the table does not know fails the test, so each new route must be classified.
For each allowed GET the body is checked too: staff of store-1 see nothing of store-2,
and brand Acme sees no name, GTIN or product name of brand Bolt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support import two_brand_store as shop
from tests.support.auth_support import bearer, make_user

ALL = frozenset({"admin", "installer", "staff", "merchandiser", "brand"})
READERS = frozenset({"admin", "staff", "merchandiser", "brand"})
SETUP = frozenset({"admin", "installer"})
STOCK_READERS = frozenset({"admin", "merchandiser", "staff"})
PUBLIC = "public"
ALERT_USERS = ALL - {"brand"}

ACCESS: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/api/health"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): PUBLIC,
    ("GET", "/api/auth/me"): ALL,
    ("GET", "/api/cameras"): ALL,
    ("GET", "/api/cameras/{store}/{camera}"): ALL,
    ("GET", "/api/cameras/{store}/{camera}/compliance"): ALL,
    ("GET", "/api/layouts/{store}/{camera}"): ALL,
    ("PUT", "/api/layouts/{store}/{camera}"): SETUP,
    ("POST", "/api/layouts/{store}/{camera}/planogram"): SETUP,
    ("GET", "/api/cameras/{store}/{camera}/snapshots"): SETUP,
    ("PUT", "/api/cameras/{store}/{camera}/snapshots"): SETUP,
    ("POST", "/api/cameras/{store}/{camera}/snapshot"): SETUP,
    ("GET", "/api/cameras/{store}/{camera}/snapshot"): SETUP,
    ("GET", "/api/cameras/{store}/{camera}/snapshot.jpg"): SETUP,
    ("GET", "/api/events"): READERS,
    ("GET", "/api/dead-letters"): frozenset({"admin"}),
    ("GET", "/api/pos/sales"): READERS,
    ("POST", "/api/pos/sales"): frozenset({"admin", "staff"}),
    ("POST", "/api/pos/sales/csv"): frozenset({"admin", "staff"}),
    ("GET", "/api/velocity"): READERS,
    ("GET", "/api/catalogue"): ALL,
    ("GET", "/api/catalogue/{gtin}"): ALL,
    ("POST", "/api/catalogue"): frozenset({"admin"}),
    ("POST", "/api/catalogue/csv"): frozenset({"admin"}),
    ("GET", "/api/advice"): READERS,
    ("GET", "/api/advice/{advice_id}"): READERS,
    ("POST", "/api/advice/{advice_id}/acknowledge"): frozenset({"admin", "staff"}),
    ("POST", "/api/advice/{advice_id}/dismiss"): frozenset({"admin", "staff"}),
    ("GET", "/api/guidance"): frozenset({"admin", "merchandiser", "staff"}),
    ("POST", "/api/guidance/items/{item_id}/accept"): frozenset({"admin", "staff"}),
    ("POST", "/api/guidance/items/{item_id}/dismiss"): frozenset({"admin", "staff"}),
    ("GET", "/api/reports/compliance"): frozenset({"admin", "merchandiser", "staff"}),
    ("GET", "/api/reports/worst-slots"): frozenset({"admin", "merchandiser", "staff"}),
    ("GET", "/api/reports/violations"): frozenset({"admin", "merchandiser", "staff"}),
    ("GET", "/api/reports/brand"): frozenset({"admin", "merchandiser", "brand"}),
    ("GET", "/api/reports/brand.csv"): frozenset({"admin", "merchandiser", "brand"}),
    ("GET", "/api/reports/devices"): SETUP,
    ("GET", "/api/reports/devices/uplink"): SETUP,
    ("GET", "/api/reports/categories"): READERS,
    ("PATCH", "/api/catalogue/{gtin}"): frozenset({"admin"}),
    ("GET", "/api/catalogue/{gtin}/changes"): frozenset({"admin"}),
    ("GET", "/api/pos/batches"): frozenset({"admin", "staff"}),
    ("GET", "/api/pos/batches/{batch}"): frozenset({"admin", "staff"}),
    ("GET", "/api/stock"): STOCK_READERS,
    ("POST", "/api/stock/receipts"): frozenset({"admin", "staff"}),
    ("POST", "/api/stock/receipts/csv"): frozenset({"admin", "staff"}),
    ("POST", "/api/stock/counts"): frozenset({"admin", "staff"}),
    ("POST", "/api/stock/counts/csv"): frozenset({"admin", "staff"}),
    ("GET", "/api/suppliers"): STOCK_READERS,
    # staff:store-1 is plain staff: price lists and orders are changed by a manager
    # (staff:<store>:manager; tests/gateway/test_purchasing_api.py) or an admin.
    ("POST", "/api/suppliers/prices"): frozenset({"admin"}),
    ("POST", "/api/suppliers/prices/csv"): frozenset({"admin"}),
    ("GET", "/api/purchases/suggestion"): STOCK_READERS,
    ("POST", "/api/purchases/drafts"): frozenset({"admin"}),
    ("GET", "/api/purchases"): STOCK_READERS,
    ("GET", "/api/purchases/{order_id}"): STOCK_READERS,
    ("PUT", "/api/purchases/{order_id}/lines/{gtin}"): frozenset({"admin"}),
    ("POST", "/api/purchases/{order_id}/accept"): frozenset({"admin"}),
    ("GET", "/api/purchases/{order_id}/csv"): STOCK_READERS,
    ("GET", "/api/models"): frozenset({"admin"}),
    ("POST", "/api/models"): frozenset({"admin"}),
    ("GET", "/api/models/{version}/files/{name}"): PUBLIC,  # a roll-out's token instead
    ("GET", "/api/rollouts"): frozenset({"admin"}),
    ("POST", "/api/rollouts"): frozenset({"admin"}),
    ("POST", "/api/rollouts/{rollout_id}/promote"): frozenset({"admin"}),
    ("POST", "/api/rollouts/{rollout_id}/rollback"): frozenset({"admin"}),
    ("GET", "/api/alerts/me"): ALERT_USERS,
    ("PUT", "/api/alerts/me/quiet-hours"): ALERT_USERS,
    ("POST", "/api/alerts/me/channels"): ALERT_USERS,
    ("POST", "/api/alerts/me/channels/{channel_id}/test"): ALERT_USERS,  # 404: not theirs
    ("GET", "/api/alerts/channels"): frozenset({"admin"}),
    ("GET", "/api/alerts/deliveries"): frozenset({"admin"}),
    # deletes last, so the other routes still find the data
    ("DELETE", "/api/alerts/me/channels/{channel_id}"): ALERT_USERS,
    ("DELETE", "/api/pos/batches/{batch}"): frozenset({"admin"}),
    ("DELETE", "/api/layouts/{store}/{camera}"): frozenset({"admin"}),
    ("DELETE", "/api/cameras/{store}/{camera}"): frozenset({"admin"}),
    ("DELETE", "/api/stores/{store}"): frozenset({"admin"}),
}

ROLES = ("admin", "installer", "staff:store-1", "merchandiser", "brand:Acme")
CALLERS = (*ROLES, "anonymous", "bad token")
UNAVAILABLE_HERE = {
    ("POST", "/api/cameras/{store}/{camera}/snapshot"): 503,
    **{
        route: 503
        for route in (
            ("GET", "/api/models"),
            ("POST", "/api/models"),
            ("GET", "/api/rollouts"),
            ("POST", "/api/rollouts"),
            ("POST", "/api/rollouts/{rollout_id}/promote"),
            ("POST", "/api/rollouts/{rollout_id}/rollback"),
        )
    },
}
"""A bare database has no broker to ask a camera and no model roll-outs: their
documented answer is 503."""

PLANOGRAM = (
    "row,slot,sku,name,brand,facings,depth\n"
    f"0,0,{shop.ACME_OATS.gtin},{shop.ACME_OATS.name},Acme,1,1\n"
    f"0,1,{shop.BOLT_COLA.gtin},{shop.BOLT_COLA.name},Bolt,1,1\n"
)


@dataclass
class Shop:
    app: FastAPI
    db: Database
    advice: dict[tuple[str, str, str], int]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Shop]:
    db = Database.in_dir(tmp_path)
    db.open()
    shop.fill(db)
    yield Shop(create_app(db), db, shop.advice_ids(db))
    db.close()


def request_for(method: str, path: str, advice: dict[tuple[str, str, str], int]) -> dict[str, Any]:
    """A real request for a route: path values from the data, a valid body."""
    values = {
        "store": "store-1",
        "camera": shop.STORES["store-1"],
        "gtin": shop.ACME_OATS.gtin,
        "advice_id": str(advice[("store-1", "restock", shop.ACME)]),
        "batch": "imp-20260302-100000-000000",
        "order_id": "1",
        "item_id": "1",
        "version": "v1",
        "name": "shelf.onnx",
        "rollout_id": "1",
        "channel_id": "1",
    }
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    sale = {
        "id": "matrix-1",
        "time": "2026-03-02T10:00:00+00:00",
        "store": "store-1",
        "sku": shop.ACME_OATS.gtin,
        "quantity": 1,
        "unit_price": "1.00",
    }
    csv_sales = "id,time,store,sku,quantity,unit_price\n" + ",".join(
        str(sale[k]) for k in ("id", "time", "store", "sku", "quantity", "unit_price")
    ).replace("matrix-1", "matrix-2")
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("PUT", "/api/layouts/{store}/{camera}"): {
            "json": shop.shelf_layout().model_dump(mode="json")
        },
        ("POST", "/api/layouts/{store}/{camera}/planogram"): {
            "content": PLANOGRAM,
            "headers": {"Content-Type": "text/csv"},
        },
        ("PUT", "/api/cameras/{store}/{camera}/snapshots"): {"json": {"enabled": True}},
        ("POST", "/api/pos/sales"): {"json": {"sales": [sale]}},
        ("POST", "/api/pos/sales/csv"): {
            "content": csv_sales,
            "headers": {"Content-Type": "text/csv"},
        },
        ("POST", "/api/catalogue"): {
            "json": {"products": [{"gtin": shop.ACME_OATS.gtin, "name": "Acme Oats 500g"}]}
        },
        ("POST", "/api/catalogue/csv"): {
            "content": f"gtin,name,brand\n{shop.ACME_RICE.gtin},Acme Rice 1kg,Acme\n",
            "headers": {"Content-Type": "text/csv"},
        },
        ("POST", "/api/advice/{advice_id}/dismiss"): {"json": {"reason": "matrix test"}},
        ("POST", "/api/guidance/items/{item_id}/dismiss"): {"json": {"reason": "matrix test"}},
        ("GET", "/api/guidance"): {"params": {"store": "store-1"}},
        ("POST", "/api/auth/login"): {"json": {"name": "nobody", "password": "not a password"}},
        ("GET", "/api/velocity"): {"params": {"store": "store-1", "sku": shop.ACME_OATS.gtin}},
        ("GET", "/api/reports/brand"): {"params": {"brand": shop.ACME}},
        ("GET", "/api/reports/brand.csv"): {"params": {"brand": shop.ACME}},
        ("PUT", "/api/purchases/{order_id}/lines/{gtin}"): {"json": {"packs": 1}},
        ("POST", "/api/rollouts"): {"json": {"version": "v1"}},
        ("PUT", "/api/alerts/me/quiet-hours"): {
            "json": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}
        },
        ("POST", "/api/alerts/me/channels"): {
            "json": {"name": "phone", "url": "http://127.0.0.1:9/hook"}
        },
        ("POST", "/api/stock/receipts"): {"json": {"receipts": []}},
        ("POST", "/api/stock/counts"): {"json": {"counts": []}},
        ("POST", "/api/suppliers/prices"): {"json": {"prices": []}},
        **{
            ("POST", f"/api/{path}/csv"): {
                "content": header + "\n",
                "headers": {"Content-Type": "text/csv"},
            }
            for path, header in (
                ("stock/receipts", "store,gtin,quantity,time"),
                ("stock/counts", "store,gtin,quantity,time"),
                ("suppliers/prices", "supplier,gtin,pack_size,pack_price,lead_time_days"),
            )
        },
        **{
            (method, route): {"params": {"store": "store-1"}}
            for method, route in (
                ("GET", "/api/stock"),
                ("GET", "/api/purchases/suggestion"),
                ("POST", "/api/purchases/drafts"),
                ("GET", "/api/purchases"),
            )
        },
    }
    return {"method": method, "url": url, **bodies.get((method, path), {})}


def client_for(store: Shop, caller: str) -> TestClient:
    if caller == "anonymous":
        return TestClient(store.app)
    if caller == "bad token":
        return TestClient(store.app, headers=bearer("sst_00000000_" + "x" * 43))
    return TestClient(store.app, headers=bearer(make_user(store.db, caller)[2]))


def kind_of(caller: str) -> str:
    return caller.split(":")[0]


def leaks_for(caller: str) -> Callable[[str], list[str]]:
    """What a body must not contain for this caller: the words found, if any."""
    if caller == "staff:store-1":
        banned = ["store-2", shop.STORES["store-2"]]
    elif caller == "brand:Acme":
        banned = shop.words_of(shop.BOLT)
    else:
        banned = []

    def found(text: str) -> list[str]:
        return [w for w in banned if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.I)]

    return found


def test_the_table_knows_every_route(store: Shop) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in store.app.openapi()["paths"].items()
        for method in operations
    }
    unknown = routes - set(ACCESS)
    assert not unknown, f"classify these routes in ACCESS: {sorted(unknown)}"
    assert not set(ACCESS) - routes, f"ACCESS names routes that are gone: {set(ACCESS) - routes}"


@pytest.mark.parametrize("caller", CALLERS)
def test_every_route_answers_each_caller_as_the_table_says(store: Shop, caller: str) -> None:
    client = client_for(store, caller)
    leaks = leaks_for(caller)
    wrong: list[str] = []
    for (method, path), allowed in ACCESS.items():
        response = client.request(**request_for(method, path, store.advice))
        status = response.status_code
        where = f"{caller}: {method} {path} -> {status} {response.text[:200]}"
        if allowed == PUBLIC:
            ok = status not in (403,) and status < 500
        elif caller in ("anonymous", "bad token"):
            ok = status == 401
        elif kind_of(caller) in allowed:
            ok = status not in (401, 403) and (
                status < 500 or UNAVAILABLE_HERE.get((method, path)) == status
            )
        else:
            ok = status == 403
        if not ok:
            wrong.append(where)
        elif method == "GET" and status == 200 and (found := leaks(response.text)):
            wrong.append(f"{where}\n  names {found}")
    assert not wrong, "\n".join(wrong)
