"""The head office's Parquet store and the Dask jobs over it: exactly once, and the figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gateway.hq import analytics
from gateway.hq.store import HqStore
from gateway.uplink.contract import (
    HourlyRollup,
    HourlySales,
    Kind,
    ProductFacts,
    ShelfProduct,
    SkuSales,
    SlotHour,
    envelope,
)

DAY = datetime(2026, 12, 1, tzinfo=UTC)
COLA, CHIPS = "40063813339310", "50000000000011"


def _rollup(store: str, hour: int, cola_empty_min: float) -> object:
    at = DAY + timedelta(hours=hour)
    body = HourlyRollup(
        camera="cam-1",
        hour=at,
        compliance=1.0 - cola_empty_min / 120,
        slots=[
            SlotHour(
                row=1,
                slot=1,
                sku=COLA,
                brand="Fizz",
                facings=2,
                minutes={"stocked": 60 - cola_empty_min, "empty": cola_empty_min},
            ),
            SlotHour(row=1, slot=2, sku=CHIPS, brand="Crunch", minutes={"stocked": 60.0}),
        ],
    )
    return envelope(store, Kind.ROLLUP, f"cam-1:{at.isoformat()}", body, at=at)


def _sales(store: str, hour: int, cola_units: float) -> object:
    at = DAY + timedelta(hours=hour)
    body = HourlySales(
        hour=at, lines=[SkuSales(sku=COLA, units=cola_units, revenue=cola_units * 2.0)]
    )
    return envelope(store, Kind.SALES, at.isoformat(), body, at=at)


def _products(store: str) -> object:
    body = ProductFacts(
        camera="cam-1",
        layout_version="v1",
        products=[
            ShelfProduct(
                camera="cam-1",
                row=1,
                slot=1,
                sku=COLA,
                brand="Fizz",
                facings=2,
                shelf_level=1,
                share_of_shelf=2 / 3,
            ),
            ShelfProduct(
                camera="cam-1",
                row=1,
                slot=2,
                sku=CHIPS,
                brand="Crunch",
                facings=1,
                shelf_level=2,
                share_of_shelf=1 / 3,
            ),
        ],
    )
    return envelope(store, Kind.PRODUCTS, "cam-1:v1", body, at=DAY)


def test_a_message_is_stored_once_however_often_it_arrives(tmp_path: Path) -> None:
    store = HqStore(tmp_path)
    batch = [_rollup("s1", h, 0.0) for h in range(3)]
    first = store.write(batch)
    again = store.write([*batch, batch[0]])
    assert (first.stored, first.duplicates) == (3, 0)
    assert (again.stored, again.duplicates) == (0, 4)
    store.close()
    reopened = HqStore(tmp_path)  # the index is on disk, not in memory
    assert reopened.write(batch[:1]).duplicates == 1
    assert reopened.stored_count() == 3
    rows = pq.read_table(tmp_path / "slot_hours").num_rows
    assert rows == 6  # two slots an hour, three hours


def test_a_crash_between_commit_and_rename_is_finished_at_the_next_open(tmp_path: Path) -> None:
    store = HqStore(tmp_path)
    store.write([_rollup("s1", 0, 0.0)])
    final = next((tmp_path / "slot_hours").rglob("*.parquet"))
    final.replace(final.with_name(final.name + ".tmp"))  # as if killed before the rename
    orphan = final.with_name("orphan.parquet.tmp")  # as if killed before the commit
    orphan.write_bytes(b"half a file")
    store.close()
    HqStore(tmp_path).close()
    assert final.is_file() and not orphan.exists()


def test_a_body_that_does_not_fit_its_kind_is_rejected_alone(tmp_path: Path) -> None:
    bad = envelope("s1", Kind.SALES, "bad", _products("s1").parsed(), at=DAY)  # no hour, no lines
    result = HqStore(tmp_path).write([bad, _rollup("s1", 1, 0.0)])
    assert result.rejected == ["s1:sales:bad"] and result.stored == 1


@pytest.mark.slow
def test_the_dask_job_computes_availability_lost_sales_and_share(tmp_path: Path) -> None:
    store = HqStore(tmp_path)
    # s1: cola empty 30 of 60 minutes in each of 4 hours; sells 3 an hour at 2.00 when in.
    store.write([_rollup("s1", h, 30.0) for h in range(4)] + [_sales("s1", h, 3) for h in range(4)])
    store.write([_rollup("s2", h, 0.0) for h in range(4)] + [_products("s1"), _products("s2")])
    counts = analytics.refresh(tmp_path, analytics.EngineSettings(workers=1))
    assert counts["brand_store_days"] == 4  # 2 brands x 2 stores x 1 day

    brands = analytics.load_result(tmp_path, "brand_store_days").set_index(["brand", "store"])
    fizz1 = brands.loc[("Fizz", "s1")]
    assert fizz1["osa"] == pytest.approx(0.5)
    assert fizz1["oos_hours"] == pytest.approx(2.0)
    # 12 units in 2 in-stock hours -> 6/h; 2 out-of-stock hours -> 12 units -> 24.00 lost
    assert fizz1["lost_sales"] == pytest.approx(24.0)
    assert fizz1["share_of_shelf"] == pytest.approx(2 / 3) and fizz1["shelf_level"] == 1
    assert brands.loc[("Fizz", "s2")]["osa"] == pytest.approx(1.0)
    assert brands.loc[("Crunch", "s1")]["shelf_level"] == 2

    stores = analytics.load_result(tmp_path, "store_days").set_index("store")
    assert stores.loc["s1", "compliance"] == pytest.approx(0.75)
    assert stores.loc["s2", "osa"] == pytest.approx(1.0)


def test_compaction_leaves_one_file_a_partition_with_the_same_rows(tmp_path: Path) -> None:
    store = HqStore(tmp_path)
    for hour in range(3):  # three batches: three small files in the same partition
        store.write([_rollup("s1", hour, 0.0)])
    before = pq.read_table(tmp_path / "slot_hours").sort_by("msg_id").to_pylist()
    assert len(list((tmp_path / "slot_hours").rglob("*.parquet"))) == 3
    assert store.compact() == 1
    assert len(list((tmp_path / "slot_hours").rglob("*.parquet"))) == 1
    assert pq.read_table(tmp_path / "slot_hours").sort_by("msg_id").to_pylist() == before
    assert store.write([_rollup("s1", 0, 0.0)]).duplicates == 1  # the index still knows


def test_a_crash_after_a_compaction_commit_is_finished_at_the_next_open(tmp_path: Path) -> None:
    store = HqStore(tmp_path)
    for hour in range(2):
        store.write([_rollup("s1", hour, 0.0)])
    rows = pq.read_table(tmp_path / "slot_hours").num_rows
    olds = sorted((tmp_path / "slot_hours").rglob("*.parquet"))
    store.compact()
    merged = next((tmp_path / "slot_hours").rglob("*.parquet"))
    # As if killed after the commit, before the rename and the deletes: put the olds back.
    merged.replace(merged.with_name(merged.name + ".tmp"))
    for old in olds:
        old.write_bytes(b"stale")
    store._db.execute(  # the commit had recorded which files the merged one replaces
        "INSERT INTO replaced_files (batch, path) VALUES (?, ?), (?, ?)",
        (
            merged.stem,
            str(olds[0].relative_to(tmp_path)),
            merged.stem,
            str(olds[1].relative_to(tmp_path)),
        ),
    )
    store.close()
    HqStore(tmp_path).close()
    assert sorted((tmp_path / "slot_hours").rglob("*.parquet")) == [merged]
    assert pq.read_table(tmp_path / "slot_hours").num_rows == rows
