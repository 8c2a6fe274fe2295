"""`shelf-hq capacity`: the sample is measured from what the simulated fleet really sends
(counted and sized like the uplink encodes it, stored in a real HqStore), and the model
scales it: twice the stores, twice the messages and bytes; the hourly burst follows the
window it is spread over."""

from __future__ import annotations

from collections import Counter

import pytest

from gateway.devtools.hq_capacity import measure, model
from gateway.devtools.hq_fleet import fleet_hours, make_fleet
from gateway.devtools.hq_loadtest import START

STORES, HOURS = 3, 2


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return measure(STORES, HOURS, tmp_path_factory.mktemp("capacity"), seed=3)


def test_the_sample_counts_and_sizes_what_the_fleet_sends(sample: dict) -> None:
    sent = [e for batch in fleet_hours(make_fleet(STORES, 3), START, HOURS, 3) for e in batch]
    by_kind = Counter(e.kind.value for e in sent)
    scale = STORES * HOURS / 24
    for kind, n in by_kind.items():
        assert sample["per_store_day"][kind]["messages"] == pytest.approx(n / scale, abs=0.01)
    total = sum(len(e.to_bytes()) for e in sent)
    assert sample["json_bytes_per_store_day"] == pytest.approx(total / scale, abs=1)
    assert sample["hourly_burst_messages_per_store"] == 3.0  # 2 camera rollups + 1 sales
    assert sample["parquet_bytes_per_message"] > 0 and sample["index_bytes_per_message"] > 0
    assert sample["ingest_msgs_per_s_one_core"] > 0


def test_the_model_scales_with_the_stores_and_the_burst_window(sample: dict) -> None:
    rates = {
        "nats_msgs_per_core": 1000.0,
        "nats_node_cores": 8,
        "dask_store_days_per_core_s": 40.0,
        "refresh_every_s": 3600.0,
    }
    one = model(sample, 100_000, burst_window_s=300, **rates)
    two = model(sample, 200_000, burst_window_s=300, **rates)
    assert two["messages_per_day"] == pytest.approx(2 * one["messages_per_day"], rel=1e-3)
    assert two["parquet_gb_per_day"] == pytest.approx(2 * one["parquet_gb_per_day"], rel=0.02)
    wide = model(sample, 100_000, burst_window_s=600, **rates)
    burst = one["msgs_per_s_top_of_hour_burst"] - one["msgs_per_s_average"]
    wide_burst = wide["msgs_per_s_top_of_hour_burst"] - wide["msgs_per_s_average"]
    assert wide_burst == pytest.approx(burst / 2, abs=1)
    assert one["nats_nodes"] % 3 == 0 and one["nats_nodes"] >= 3
