"""Sales velocity on synthetic sale histories whose true rates are known: Poisson sales
with a known hour-of-day and weekday profile, a slow mover, an SKU with its own pattern,
an unseen SKU, and the store's time zone."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from edge.layout import with_check_digit
from gateway.config.settings import GatewaySettings
from gateway.retail.pos import SaleLine, record_sales
from gateway.retail.velocity import VelocityProfile, estimate_profile, weekday_exposure
from gateway.retail.velocity_queries import units_sold, velocity_profile
from gateway.storage.connection import Database
from gateway.web.app import create_app
from gateway.web.backend import DatabaseBackend
from tests.support.auth_support import admin_client

UTC_ZONE = ZoneInfo("UTC")
START = date(2024, 4, 1)  # a Monday
DAYS = 28
END = START + timedelta(days=DAYS)
SKU = with_check_digit("400638133393")
OTHER = with_check_digit("500011200001")

# The store opens 8:00-20:00, busiest late afternoon and on Saturday, quiet on Sunday.
HOUR_SHAPE = np.zeros(24)
HOUR_SHAPE[8:20] = [0.5, 0.8, 1, 1, 1.2, 1.3, 1, 0.9, 1, 1.3, 1.5, 1.0]
HOUR_SHAPE /= HOUR_SHAPE.sum()
DAY_FACTOR = np.array([1, 1, 1, 1.1, 1.3, 1.5, 0.6])
DAY_FACTOR /= DAY_FACTOR.mean()
OPEN = slice(8, 20)


def truth(daily: float, shape: np.ndarray = HOUR_SHAPE) -> np.ndarray:
    """True units per hour by (weekday, hour)."""
    return daily * DAY_FACTOR[:, None] * shape[None, :]


def poisson_sales(
    rng: np.random.Generator,
    daily: float,
    shape: np.ndarray = HOUR_SHAPE,
    *,
    start: date = START,
    days: int = DAYS,
    tz: ZoneInfo = UTC_ZONE,
) -> list[tuple[datetime, float]]:
    """One unit per sale, at uniform minutes within each local hour."""
    rates = truth(daily, shape)
    sales = []
    for k in range(days):
        day = start + timedelta(days=k)
        for hour in range(24):
            for _ in range(rng.poisson(rates[day.weekday(), hour])):
                local = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
                sales.append((local + timedelta(seconds=float(rng.uniform(0, 3599))), 1.0))
    return sales


def raw_rates(sales: list[tuple[datetime, float]]) -> np.ndarray:
    """The naive estimate: units in each (weekday, hour) / how often it occurred."""
    counts = np.zeros((7, 24))
    for ts, units in sales:
        counts[ts.weekday(), ts.hour] += units
    return counts / weekday_exposure(START, END)[:, None]


def profile_of(sku_sales: list, store_sales: list) -> VelocityProfile:
    return estimate_profile(
        "store-1",
        SKU,
        sku_sales,
        store_sales + sku_sales,
        tz=UTC_ZONE,
        window_start=START,
        window_end=END,
    )


@pytest.fixture(scope="module")
def store_sales() -> list[tuple[datetime, float]]:
    """The rest of the store: 600 units a day following the store's traffic."""
    return poisson_sales(np.random.default_rng(7), 600)


# ---- the estimator -------------------------------------------------------------------


def test_a_steady_seller_is_estimated_close_to_its_true_rates(store_sales: list) -> None:
    sku_sales = poisson_sales(np.random.default_rng(1), 40)
    profile = profile_of(sku_sales, store_sales)
    expected = truth(40)
    assert profile.daily_rate == pytest.approx(40, rel=0.1)
    error = np.abs(profile.rates - expected)[:, OPEN].mean() / expected[:, OPEN].mean()
    raw_error = np.abs(raw_rates(sku_sales) - expected)[:, OPEN].mean() / expected[:, OPEN].mean()
    assert error < 0.12, error
    assert error < raw_error / 2, (error, raw_error)
    assert (profile.rates[:, :8] == 0).all() and (profile.rates[:, 20:] == 0).all()


@pytest.mark.parametrize("seed", range(4))
def test_a_slow_mover_has_a_rate_in_every_open_hour_and_none_at_night(
    store_sales: list, seed: int
) -> None:
    sku_sales = poisson_sales(np.random.default_rng(100 + seed), 3)
    profile = profile_of(sku_sales, store_sales)
    expected = truth(3)
    ratio = profile.rates[:, OPEN] / expected[:, OPEN]
    assert ratio.min() > 0.5 and ratio.max() < 2.0, (ratio.min(), ratio.max())
    assert (profile.rates[:, :8] == 0).all() and (profile.rates[:, 20:] == 0).all()
    raw_error = np.abs(raw_rates(sku_sales) - expected)[:, OPEN].mean()
    assert np.abs(profile.rates - expected)[:, OPEN].mean() < raw_error / 3
    assert profile.units == len(sku_sales) and profile.basis == "sku"


def test_a_pattern_of_its_own_is_kept(store_sales: list) -> None:
    """A breakfast roll sells mostly 7-10, when the store itself is quiet."""
    shape = np.zeros(24)
    shape[7:10] = 1.0
    shape[8:20] += 0.1
    shape /= shape.sum()
    profile = profile_of(poisson_sales(np.random.default_rng(3), 40, shape), store_sales)
    by_hour = profile.rates.mean(axis=0)
    true_by_hour = truth(40, shape).mean(axis=0)
    assert by_hour[7:10].mean() > 5 * by_hour[12:20].mean()
    assert by_hour[7:10] == pytest.approx(true_by_hour[7:10], rel=0.2)


def test_an_unseen_sku_falls_back_to_nothing_expected(store_sales: list) -> None:
    profile = profile_of([], store_sales)
    at = datetime(2024, 4, 29, 12, tzinfo=UTC)
    assert profile.basis == "none" and profile.units == 0 and profile.daily_rate == 0
    assert not profile.rates.any()
    assert profile.rate_at(at) == 0
    assert profile.expected_time_between_sales(at) is None
    assert profile.probability_no_sale(at, at + timedelta(hours=5)) == 1.0


def test_an_empty_store_has_no_profile() -> None:
    profile = estimate_profile(
        "store-1", SKU, [], [], tz=UTC_ZONE, window_start=START, window_end=START
    )
    assert profile.days == 0 and profile.daily_rate == 0 and not profile.rates.any()


# ---- using a profile -----------------------------------------------------------------


def flat_profile(rates: np.ndarray) -> VelocityProfile:
    return VelocityProfile(
        store="store-1",
        sku=SKU,
        timezone="UTC",
        window_start=START,
        window_end=END,
        units=int(rates.sum() * 4),
        store_units=0,
        rates=rates,
    )


def test_expected_time_between_sales_at_a_constant_rate_is_one_over_the_rate() -> None:
    profile = flat_profile(np.full((7, 24), 2.0))
    wait = profile.expected_time_between_sales(datetime(2024, 5, 1, 10, 17, tzinfo=UTC))
    assert wait is not None
    assert wait / timedelta(hours=1) == pytest.approx(0.5, rel=1e-9)


def test_expected_time_between_sales_waits_through_closed_hours() -> None:
    """Open 8-20 at one sale an hour; checked against a minute-by-minute integration."""
    rates = np.zeros((7, 24))
    rates[:, 8:20] = 1.0
    profile = flat_profile(rates)
    at = datetime(2024, 5, 1, 19, 30, tzinfo=UTC)
    wait = profile.expected_time_between_sales(at)
    assert wait is not None

    survived, expected_units, numeric = 1.0, 0.0, 0.0
    for minute in range(3 * 24 * 60):
        now = at + timedelta(minutes=minute)
        numeric += survived / 60
        expected_units += profile.rate_at(now) / 60
        survived = math.exp(-expected_units)
    assert wait / timedelta(hours=1) == pytest.approx(numeric, rel=0.01)
    assert wait > timedelta(hours=5)  # the night is in it
    morning = profile.expected_time_between_sales(datetime(2024, 5, 1, 9, tzinfo=UTC))
    assert morning is not None and morning / timedelta(hours=1) == pytest.approx(1.0, rel=0.01)


def test_expected_units_and_the_chance_of_no_sale() -> None:
    rates = np.zeros((7, 24))
    rates[:, 8:20] = 0.5
    profile = flat_profile(rates)
    start = datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    end = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert profile.expected_units(start, end) == pytest.approx(1.0)
    assert profile.probability_no_sale(start, end) == pytest.approx(math.exp(-1.0))


# ---- from the database ---------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path / "data")
    database.open()
    yield database
    database.close()


def store_in(db: Database, sales: list[tuple[datetime, int, str]]) -> None:
    lines = [
        SaleLine(
            id=f"L{i}",
            time=ts,
            store="store-1",
            sku=sku,
            quantity=quantity,
            unit_price="1.00",
        )
        for i, (ts, quantity, sku) in enumerate(sales)
    ]
    with db.transaction() as tx:
        record_sales(tx, lines, source="api", received_at=datetime.now(UTC))


def test_hours_and_weekdays_are_the_stores_local_ones(db: Database) -> None:
    """Berlin is UTC+2 in summer and UTC+1 in winter: 9:xx local either way."""
    berlin = ZoneInfo("Europe/Berlin")
    sales = []
    for start in (date(2024, 6, 3), date(2024, 12, 2)):  # Mondays
        for k in range(14):
            day = start + timedelta(days=k)
            local = datetime(day.year, day.month, day.day, 9, 15, tzinfo=berlin)
            sales.append((local.astimezone(UTC), 1, SKU))
    store_in(db, sales)
    for now in (datetime(2024, 6, 17, 12, tzinfo=UTC), datetime(2024, 12, 16, 12, tzinfo=UTC)):
        profile = velocity_profile(db, "store-1", SKU, tz=berlin, window_days=14, now=now)
        assert profile.units == 14 and profile.daily_rate == pytest.approx(1.0)
        assert profile.rates[:, 9] == pytest.approx(np.ones(7))
        assert profile.rates.sum() == pytest.approx(7.0)
    in_utc = velocity_profile(
        db, "store-1", SKU, tz=UTC_ZONE, window_days=14, now=datetime(2024, 6, 17, 12, tzinfo=UTC)
    )
    assert in_utc.rates[:, 7] == pytest.approx(np.ones(7))


def test_the_window_starts_with_the_stores_history_and_leaves_out_today_and_returns(
    db: Database,
) -> None:
    now = datetime(2024, 4, 20, 15, tzinfo=UTC)
    sales = [(datetime(2024, 4, 13 + k, 10, tzinfo=UTC), 2, SKU) for k in range(7)]
    sales.append((datetime(2024, 4, 15, 11, tzinfo=UTC), -1, SKU))  # a return
    sales.append((datetime(2024, 4, 20, 9, tzinfo=UTC), 5, SKU))  # today
    sales.append((datetime(2024, 4, 14, 16, tzinfo=UTC), 3, OTHER))
    store_in(db, sales)
    profile = velocity_profile(db, "store-1", SKU, tz=UTC_ZONE, window_days=28, now=now)
    assert (profile.window_start, profile.window_end) == (date(2024, 4, 13), date(2024, 4, 20))
    assert profile.days == 7 and profile.units == 14 and profile.store_units == 17
    assert profile.daily_rate == pytest.approx(2.0)
    since = datetime(2024, 4, 15, tzinfo=UTC)
    assert units_sold(db, "store-1", SKU, since, now) == 2 * 5 + 5
    assert units_sold(db, "store-1", SKU, since, datetime(2024, 4, 17, tzinfo=UTC)) == 4


def test_the_velocity_api_uses_the_stores_time_zone(db: Database) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    sales = []
    for k in range(28):
        day = date(2024, 6, 1) + timedelta(days=k)
        for hour in (9, 10, 17):
            local = datetime(day.year, day.month, day.day, hour, 30, tzinfo=berlin)
            sales.append((local.astimezone(UTC), 1, SKU))
    for hour in (9, 11):  # the day of `at`: 9:30 before it, 11:30 after
        sales.append((datetime(2024, 6, 29, hour, 30, tzinfo=berlin).astimezone(UTC), 1, SKU))
    store_in(db, sales)

    class Backend(DatabaseBackend):
        settings = GatewaySettings(pos={"timezone": "Europe/Berlin"})

    api = admin_client(create_app(Backend(db)))
    at = datetime(2024, 6, 29, 10, 0, tzinfo=berlin)  # a Saturday, after that day's 9:30
    body = api.get("/api/velocity", params={"store": "store-1", "sku": SKU, "at": at.isoformat()})
    assert body.status_code == 200, body.text
    v = body.json()
    assert v["timezone"] == "Europe/Berlin" and v["basis"] == "sku"
    assert v["days"] == 28 and v["units"] == 84 and v["daily_rate"] == pytest.approx(3.0)
    assert len(v["hourly"]) == 7 and all(len(day) == 24 for day in v["hourly"])
    assert v["today"] == v["hourly"][5] and v["weekdays"][5] == "Saturday"
    assert v["today"][9] == pytest.approx(1.0, rel=1e-3) and v["today"][3] == 0
    assert v["rate_now"] == pytest.approx(1.0, rel=1e-3)
    assert 0 < v["expected_time_between_sales_h"] < 8
    assert v["units_sold_today"] == 1
    assert datetime.fromisoformat(v["last_sale"]) == datetime(2024, 6, 29, 9, 30, tzinfo=UTC)

    unseen = api.get("/api/velocity", params={"store": "store-1", "sku": OTHER}).json()
    assert unseen["basis"] == "none" and unseen["expected_time_between_sales_h"] is None
    bad = api.get("/api/velocity", params={"store": "store-1", "sku": "12"})
    assert bad.status_code == 422
    naive = api.get(
        "/api/velocity", params={"store": "store-1", "sku": SKU, "at": "2024-06-29T10:00"}
    )
    assert naive.status_code == 422 and "UTC offset" in naive.json()["detail"]
