"""The head office's store guidance API on a real dataset (tests/support/hq_neighbourhood:
nine stores with locations, formats and known prices, written with `HqStore` and analysed
by the Dask job): nearby price references with the five-store minimum, a brand's price
spread, assortment add and delist items, and who may read which store's guidance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import hq_neighbourhood as data
from tests.support.hq_app import Hq, hq_app

pytestmark = pytest.mark.slow  # the Dask job runs once for the module


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hq]:
    root = data.build(tmp_path_factory.mktemp("hq"))
    with hq_app(root, tmp_path_factory.mktemp("hq-users")) as live:
        yield live


def test_a_store_sees_its_price_beside_the_nearby_median(hq: Hq) -> None:
    body = hq.client("staff:n7").get("/api/stores/n7/prices").json()
    assert body["store"] == "n7" and body["currency"] == "EUR" and body["refreshed_at"]
    (cola,) = body["references"]
    others = sorted(data.cola_price(s) for s in ("n1", "n2", "n3", "n4", "n5", "n6"))
    assert cola["sku"] == data.COLA.sku and cola["name"] == "Fizz Cola 1.5L"
    assert cola["price"] == pytest.approx(1.60) and cola["stores"] == 6
    assert cola["median"] == pytest.approx((others[2] + others[3]) / 2)
    assert (cola["low"], cola["high"]) == pytest.approx((others[0], others[-1]))
    assert cola["basis"] == "radius" and cola["radius_km"] == 3.0
    assert cola["diff_pct"] == pytest.approx((1.60 / cola["median"] - 1) * 100)


def test_fewer_than_five_other_stores_show_no_reference(hq: Hq) -> None:
    admin = hq.client("admin")
    for store in ("n1", "n2", "n3", "n4", "n5"):  # LEMON: four other sellers each
        found = admin.get(f"/api/stores/{store}/prices").json()["references"]
        stores = {r["sku"]: r["stores"] for r in found}
        # KIBBLE: five other sellers (n1..n6), shown; LEMON: four, not shown
        assert stores == {data.COLA.sku: 6, data.KIBBLE.sku: 5}, store
    # f1 (Munich) has no store within 3 km and a region of its own: nothing at all
    assert admin.get("/api/stores/f1/prices").json()["references"] == []


def test_a_store_without_a_location_gets_its_regions_reference(hq: Hq) -> None:
    (cola,) = hq.client("admin").get("/api/stores/n8/prices").json()["references"]
    assert cola["basis"] == "region" and cola["radius_km"] is None
    assert cola["stores"] == 7  # n1..n7, not Munich


def test_assortment_adds_what_similar_stores_sell_and_delists_the_idle(hq: Hq) -> None:
    n7 = hq.client("staff:n7").get("/api/stores/n7/assortment").json()
    top = n7["adds"][0]
    assert top["rank"] == 1 and top["sku"] == data.KIBBLE.sku
    assert top["name"] == "Pawsome Kibble 2kg" and top["brand"] == "Pawsome"
    assert top["median_per_week"] == pytest.approx(21.0)
    assert top["sellers"] >= 6 and top["nearby_peers"] == 6
    assert top["evidence"].startswith(f"sells 21 a week in {top['sellers']} of {top['peers']} ")
    assert "within 3 km" in top["evidence"]
    assert data.COLA.sku not in {a["sku"] for a in n7["adds"]}  # stocked already
    n1 = hq.client("admin").get("/api/stores/n1/assortment").json()
    assert n1["adds"] == []  # n1 stocks all that sells around it
    (duster,) = n1["delists"]
    assert duster["sku"] == data.DUSTER.sku and duster["facings"] == 4
    assert duster["per_week"] == 0 and duster["osa"] == 1.0 and duster["weeks"] == 4
    assert duster["give_to_kind"] == "extend" and duster["give_to_sku"] == data.COLA.sku
    assert "on 4 facings over 4 weeks" in duster["evidence"]


def test_a_brand_sees_its_own_price_spread_only(hq: Hq) -> None:
    brand = hq.client("brand:Fizz")
    body = brand.get("/api/brands/fizz/prices").json()
    assert body["brand"] == "Fizz"
    spread = {s["sku"]: s for s in body["skus"]}
    assert set(spread) == {data.COLA.sku, data.LEMON.sku}
    cola = spread[data.COLA.sku]
    assert cola["stores"] == len(data.SITES) and cola["currency"] == "EUR"
    assert (cola["low"], cola["high"]) == pytest.approx((1.00, 2.00))
    assert cola["spread_pct"] == pytest.approx(100.0)
    assert {s["sku"] for s in body["stores"]} == set(spread)
    text = brand.get("/api/brands/Fizz/prices").text
    for word in ("Pawsome", data.KIBBLE.sku, "Sparkle", data.DUSTER.sku):
        assert word not in text
    assert brand.get("/api/brands/Pawsome/prices").status_code == 403
    assert brand.get("/api/stores/n1/prices").status_code == 403
    assert brand.get("/api/stores/n1/assortment").status_code == 403


def test_staff_read_their_own_store_only(hq: Hq) -> None:
    staff = hq.client("staff:n7")
    for path in ("prices", "assortment"):
        assert staff.get(f"/api/stores/n7/{path}").status_code == 200
        refused = staff.get(f"/api/stores/n1/{path}")
        assert refused.status_code == 403 and "n7 only" in refused.json()["detail"]
    merch = hq.client("merchandiser:region:muenchen")
    assert merch.get("/api/stores/f1/prices").status_code == 200
    assert merch.get("/api/stores/n1/assortment").status_code == 403
    assert hq.client("admin").get("/api/stores/bad id/prices").status_code == 422
