"""Planogram import: the documented examples, geometry rules, errors that name the line
and column, and import through the API into the real SQLite store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edge.settings import load_layout
from gateway.shelf import planogram
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import admin_client
from tests.support.paths import REPO

ROOT = REPO
EXAMPLES = ROOT / "firmware_config" / "planograms"
EXAMPLE_LAYOUT = ROOT / "firmware_config" / "layouts" / "store-1-cam-1.yaml"


def test_the_csv_and_json_examples_describe_the_same_shelf() -> None:
    current = load_layout(EXAMPLE_LAYOUT)
    from_csv = planogram.load(EXAMPLES / "store-1-cam-1.csv", current)
    from_json = planogram.load(EXAMPLES / "store-1-cam-1.json", current)
    assert from_csv == from_json
    # Slots without coordinates keep the calibrated geometry: here, the example layout.
    assert from_csv.version == current.version


def test_without_coordinates_or_a_layout_rows_split_evenly_and_slots_by_facings() -> None:
    text = "row,slot,sku,facings\n0,0,,1\n0,1,,3\n1,0,,2\n"
    layout = planogram.to_layout(planogram.parse(text))
    assert [(r.y0, r.y1) for r in layout.rows] == [(0.0, 0.5), (0.5, 1.0)]
    assert [(s.x0, s.x1) for s in layout.rows[0].slots] == [(0.0, 0.25), (0.25, 1.0)]
    assert layout.rows[1].slots[0].sku is None


def test_every_problem_is_reported_with_its_line_and_column() -> None:
    text = (
        "# a comment line\n"
        "row,slot,sku,name,facings\n"
        "0,0,4006381333932,Bad check digit,1\n"
        "0,1,4006381333931,Fine,1\n"
        "0,x,,No slot,0\n"
    )
    with pytest.raises(planogram.PlanogramError) as caught:
        planogram.parse(text, "shelf.csv")
    message = str(caught.value)
    assert "shelf.csv line 3, column sku: '4006381333932' is not a GTIN" in message
    assert "shelf.csv line 5, column slot:" in message
    assert "shelf.csv line 5, column facings:" in message
    assert "line 4" not in message


def test_unknown_columns_duplicates_and_bad_json_are_named() -> None:
    with pytest.raises(planogram.PlanogramError, match=r"unknown column.*colour"):
        planogram.parse("row,slot,colour\n0,0,red\n")
    with pytest.raises(planogram.PlanogramError, match="row 0, slot 0 is listed twice"):
        planogram.to_layout(planogram.parse("row,slot\n0,0\n0,0\n"))
    with pytest.raises(planogram.PlanogramError, match="planogram line 1, column 12"):
        planogram.parse('{"slots": [', kind="json")
    with pytest.raises(planogram.PlanogramError, match="item 1, column sku"):
        planogram.parse('[{"row": 0, "slot": 0}, {"row": 0, "slot": 1, "sku": "123"}]')


def test_a_layout_written_as_csv_reads_back_unchanged() -> None:
    layout = load_layout(EXAMPLE_LAYOUT)
    assert planogram.to_layout(planogram.parse(planogram.to_csv(layout))) == layout


def test_import_through_the_api_stores_the_layout_and_its_products(tmp_path: Path) -> None:
    db = Database.in_dir(tmp_path)
    db.open()
    api = admin_client(create_app(db))
    api.put(
        "/api/layouts/store-1/cam-1",
        json=load_layout(EXAMPLE_LAYOUT).model_dump(),
        params={"create": "true"},  # a camera the gateway has not heard from yet
    )
    body = (EXAMPLES / "store-1-cam-1.csv").read_bytes()
    response = api.post(
        "/api/layouts/store-1/cam-1/planogram", content=body, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == load_layout(EXAMPLE_LAYOUT).version
    found = api.get("/api/catalogue", params={"q": "Stabilo"}).json()
    assert {p["gtin"] for p in found} == {"4006381333931", "4006381333948"}

    bad = api.post(
        "/api/layouts/store-1/cam-1/planogram",
        content=b"row,slot,sku\n0,0,12345\n",
        headers={"Content-Type": "text/csv"},
    )
    assert bad.status_code == 422
    assert "planogram line 2, column sku" in bad.json()["detail"]
    db.close()


def test_the_command_line_writes_a_layout_file_the_gateway_reads(tmp_path: Path) -> None:
    out = tmp_path / "layout.yaml"
    cli = [sys.executable, "-m", "gateway.cli", "planogram"]
    args = ["--current", str(EXAMPLE_LAYOUT), "--out", str(out)]
    done = subprocess.run(
        [*cli, str(EXAMPLES / "store-1-cam-1.json"), *args],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert load_layout(out) == load_layout(EXAMPLE_LAYOUT)
    assert yaml.safe_load(out.read_text())["rows"][0]["slots"][0]["brand"] == "Stabilo"
    bad = tmp_path / "bad.csv"
    bad.write_text("row,slot,facings\n0,0,0\n")
    failed = subprocess.run([*cli, str(bad)], capture_output=True, text=True)
    assert failed.returncode == 2
    assert f"{bad} line 2, column facings" in failed.stderr
