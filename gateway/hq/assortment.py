"""Assortment guidance: what a store should add, and what to take off to make room.

Method (a peer-group gap analysis, as category-management tools do it):

1. Similar stores (`similar_stores`). A store's peers are the stores of the same format
   within `radius_km` (haversine on the profiles' lat/lon; the same region for a store
   without a location), nearest first: they share its shoppers' neighbourhood, which is
   what a store cannot see from its own sales (it sells no dog food if it stocks none);
   basis "nearby", or "region" for a store without a location.
   The rest of the `peers` places go to same-format stores anywhere whose sales mix is
   most like this store's (cosine similarity of the SKUs' shares of weekly units, at
   least `min_similarity`): stores whose shoppers buy the same things.
2. Add candidates (`add_candidates`). Every SKU the store neither sold in the window
   (the last `weeks` weeks) nor
   has on a watched shelf, that sells at least `sells_per_week` units a week in at least
   `min_stores` of its peers (fewer: no figure, so no single competitor's sales can be
   read off, GUIDE.md's privacy rule). Its expected rate here is the median weekly
   units of the peers that sell it times the share of peers that sell it (a SKU only 5
   of 10 peers sell is less sure than one all 10 sell); ranked by that, with the
   evidence: "sells 9 a week in 7 of 10 similar stores within 3 km".
3. Delist candidates (`delist_candidates`). SKUs on the store's current shelves
   (product facts) watched by a camera on most days of the last `weeks` weeks,
   on the shelf (on-shelf availability) at least `min_availability` of that time, so
   low sales are low demand and not empty slots, selling under `delist_per_facing_week`
   units per facing per week; slowest per facing first. Each says what to give its
   facings to: the store's next add candidate, else the fastest seller per facing on
   its shelves (extend it).

The functions take the HQ's small tables (pandas) and return plain frames, so the
analytics job, the pages and a simulation measuring precision all run the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gateway.hq.nearby import neighbour_pairs
from gateway.hq.store_sales import window

PEER_COLUMNS = ["store", "peer", "basis", "distance_km", "similarity"]
ADD_COLUMNS = [
    "store",
    "rank",
    "sku",
    "brand",
    "name",
    "expected_per_week",
    "median_per_week",
    "sellers",
    "peers",
    "nearby_peers",
    "radius_km",
    "in_region",
    "evidence",
]
DELIST_COLUMNS = [
    "store",
    "rank",
    "sku",
    "brand",
    "name",
    "facings",
    "per_week",
    "per_facing_week",
    "osa",
    "weeks",
    "give_to_sku",
    "give_to_name",
    "give_to_kind",
    "give_to_per_week",
    "evidence",
]


@dataclass(frozen=True)
class AssortmentSettings:
    """Who counts as similar, what counts as selling, and how many items a store gets."""

    radius_km: float = 3.0
    peers: int = 10
    min_similarity: float = 0.5
    min_stores: int = 5
    sells_per_week: float = 1.0
    adds: int = 10
    weeks: int = 4
    delist_per_facing_week: float = 0.5
    min_availability: float = 0.8
    min_watched: float = 0.8
    """Share of the delist window's days a SKU's slot must have been watched."""
    delists: int = 5

    def __post_init__(self) -> None:
        if self.radius_km <= 0 or self.peers < 1 or self.min_stores < 1:
            raise ValueError("radius_km must be positive, peers and min_stores at least 1")
        if self.min_stores > self.peers:
            raise ValueError(f"min_stores ({self.min_stores}) cannot exceed peers ({self.peers})")


# ---- similar stores ---------------------------------------------------------------------


def _formats(profiles: pd.DataFrame) -> pd.Series:
    return profiles.drop_duplicates("store").set_index("store")["format"].fillna("")


def _nearby_peers(profiles: pd.DataFrame, settings: AssortmentSettings) -> pd.DataFrame:
    pairs = neighbour_pairs(profiles, settings.radius_km)
    if pairs.empty:
        return pd.DataFrame(columns=PEER_COLUMNS)
    formats = _formats(profiles)
    same = pairs["store"].map(formats).to_numpy() == pairs["other"].map(formats).to_numpy()
    pairs = pairs[same].rename(columns={"other": "peer"})
    basis = pairs["basis"].map({"radius": "nearby", "region": "region"})
    return pairs.assign(basis=basis, similarity=np.nan)[PEER_COLUMNS]


def _mix_peers(
    sales: pd.DataFrame, profiles: pd.DataFrame, settings: AssortmentSettings
) -> pd.DataFrame:
    """Per store, the same-format stores with the most similar SKU sales mix."""
    formats = _formats(profiles)
    rows = sales[sales["per_week"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=PEER_COLUMNS)
    matrix = rows.pivot_table(
        index="store", columns="sku", values="per_week", aggfunc="sum", fill_value=0.0
    )
    found = []
    for _, members in matrix.groupby(matrix.index.map(lambda s: formats.get(s, ""))):
        values = members.to_numpy(dtype=float)
        norms = np.linalg.norm(values, axis=1, keepdims=True)
        unit = values / np.where(norms > 0, norms, 1.0)
        stores = members.index.to_numpy()
        for start in range(0, len(stores), 1000):  # bounded memory for big formats
            block = unit[start : start + 1000] @ unit.T
            for i, sims in enumerate(block):
                sims[start + i] = -1.0  # never its own peer
                top = np.argsort(-sims)[: settings.peers]
                for j in top:
                    if sims[j] >= settings.min_similarity:
                        found.append((stores[start + i], stores[j], "mix", np.nan, float(sims[j])))
    return pd.DataFrame(found, columns=PEER_COLUMNS)


def similar_stores(
    sales: pd.DataFrame, profiles: pd.DataFrame, settings: AssortmentSettings = AssortmentSettings()
) -> pd.DataFrame:
    """(store, peer, basis, distance_km, similarity): each store's up to `peers` peers,
    same-format neighbours nearest first ("nearby"), then the most similar sales mixes
    ("mix"). `sales`: `store_sales.store_sku_sales(...)`; `profiles`: latest profiles."""
    if profiles.empty:
        return pd.DataFrame(columns=PEER_COLUMNS)
    nearby = _nearby_peers(profiles, settings).sort_values(["store", "distance_km"])
    mix = _mix_peers(sales, profiles, settings).sort_values(
        ["store", "similarity"], ascending=[True, False]
    )
    both = (
        pd.concat([f for f in (nearby, mix) if not f.empty], ignore_index=True)
        if not (nearby.empty and mix.empty)
        else nearby
    )
    if both.empty:
        return pd.DataFrame(columns=PEER_COLUMNS)
    both = both.drop_duplicates(["store", "peer"], keep="first")  # nearby wins over mix
    both = both.groupby("store", sort=True).head(settings.peers)
    return both[PEER_COLUMNS].reset_index(drop=True)


# ---- add candidates ---------------------------------------------------------------------


def _catalogue(products: pd.DataFrame) -> pd.DataFrame:
    if products.empty:
        return pd.DataFrame(columns=["brand", "name"])
    return products.dropna(subset=["sku"]).groupby("sku")[["brand", "name"]].first()


def _stocked(sales: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """(store, sku) the store sold in the window or has on a watched shelf now."""
    sold = sales.loc[sales["units"] > 0, ["store", "sku"]]
    shelf = products[["store", "sku"]].dropna() if not products.empty else sold.iloc[0:0]
    return pd.concat([sold, shelf]).drop_duplicates()


def _add_evidence(row: pd.Series, radius_km: float) -> str:
    where = f"{row['sellers']} of {row['peers']} similar stores"
    near = "in its region" if row["in_region"] else f"within {radius_km:g} km"
    if row["nearby_peers"] == row["peers"]:
        where += f" {near}"
    elif row["nearby_peers"]:
        where += f" ({row['nearby_peers']} of them {near})"
    else:
        where += " (similar sales mix)"
    return f"sells {row['median_per_week']:.0f} a week in {where}"


def add_candidates(
    sales: pd.DataFrame,
    profiles: pd.DataFrame,
    products: pd.DataFrame,
    settings: AssortmentSettings = AssortmentSettings(),
    peers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per store, the ranked SKUs to add (see the module doc), best first, at most
    `adds` each. `sales`: `store_sku_sales(...)`; `products`: current shelf products
    (store, sku, brand, name); `peers`: `similar_stores(...)` when already computed."""
    peers = similar_stores(sales, profiles, settings) if peers is None else peers
    if peers.empty or sales.empty:
        return pd.DataFrame(columns=ADD_COLUMNS)
    near = peers["basis"] != "mix"
    counts = (
        peers.assign(near=near)
        .groupby("store")
        .agg(
            peers=("peer", "count"),
            nearby_peers=("near", "sum"),
            in_region=("basis", lambda b: bool((b == "region").any())),
        )
    )
    selling = sales.loc[sales["per_week"] >= settings.sells_per_week, ["store", "sku", "per_week"]]
    seen = peers[["store", "peer", "basis"]].merge(
        selling.rename(columns={"store": "peer"}), on="peer"
    )
    stocked = _stocked(sales, products).assign(stocked=True)
    seen = seen.merge(stocked, on=["store", "sku"], how="left")
    seen = seen[seen["stocked"].isna()]
    if seen.empty:
        return pd.DataFrame(columns=ADD_COLUMNS)
    table = seen.groupby(["store", "sku"]).agg(
        sellers=("peer", "nunique"), median_per_week=("per_week", "median")
    )
    table = table[table["sellers"] >= settings.min_stores].reset_index()
    if table.empty:
        return pd.DataFrame(columns=ADD_COLUMNS)
    table = table.merge(counts, left_on="store", right_index=True)
    table["expected_per_week"] = table["median_per_week"] * table["sellers"] / table["peers"]
    table = table.sort_values(
        ["store", "expected_per_week", "sellers", "sku"], ascending=[True, False, False, True]
    )
    table = table.groupby("store").head(settings.adds)
    table["rank"] = table.groupby("store").cumcount() + 1
    table = table.merge(_catalogue(products), left_on="sku", right_index=True, how="left")
    table["radius_km"] = settings.radius_km
    table["in_region"] = table["in_region"].astype(bool)
    table["evidence"] = table.apply(_add_evidence, axis=1, radius_km=settings.radius_km)
    return table[ADD_COLUMNS].reset_index(drop=True)


# ---- delist candidates ------------------------------------------------------------------


def _shelf_rates(
    skus: pd.DataFrame, products: pd.DataFrame, settings: AssortmentSettings
) -> pd.DataFrame:
    """Per store x SKU on a current shelf: facings, watched days, units a week, OSA."""
    skus = skus.assign(day=skus["day"].astype(str))
    first, last = window(skus["day"].max(), settings.weeks * 7)
    recent = skus[(skus["day"] >= first) & (skus["day"] <= last)]
    recent = recent[recent["observed_min"] > 0]
    present = recent[["min_stocked", "min_low", "min_messy"]].sum(axis=1)
    per = (
        recent.assign(present_min=present)
        .groupby(["store", "sku"])
        .agg(
            units=("units", "sum"),
            present_min=("present_min", "sum"),
            observed_min=("observed_min", "sum"),
            watched=("day", "nunique"),
        )
        .reset_index()
    )
    facings = products.groupby(["store", "sku"])["facings"].sum().reset_index()
    per = per.merge(facings, on=["store", "sku"])
    per = per[per["facings"] > 0]
    per["osa"] = per["present_min"] / per["observed_min"]
    per["per_week"] = per["units"] / per["watched"] * 7.0
    per["per_facing_week"] = per["per_week"] / per["facings"]
    per["weeks"] = per["watched"] / 7.0
    per["eligible"] = (per["watched"] >= settings.min_watched * settings.weeks * 7) & (
        per["osa"] >= settings.min_availability
    )
    return per


def _delist_evidence(row: pd.Series) -> str:
    return (
        f"sold {row['per_week']:.1f} a week on {int(row['facings'])} facings over "
        f"{row['weeks']:.0f} weeks, on the shelf {row['osa'] * 100:.0f} % of the time"
    )


def delist_candidates(
    skus: pd.DataFrame,
    products: pd.DataFrame,
    adds: pd.DataFrame,
    settings: AssortmentSettings = AssortmentSettings(),
) -> pd.DataFrame:
    """Per store, the slowest SKUs per facing on its shelves (see the module doc), each
    with what to give its facings to. `skus`: the analytics' SKU x store x day result;
    `products`: current shelf products; `adds`: `add_candidates(...)`."""
    if skus.empty or products.empty:
        return pd.DataFrame(columns=DELIST_COLUMNS)
    rates = _shelf_rates(skus, products, settings)
    slow = rates[rates["eligible"] & (rates["per_facing_week"] < settings.delist_per_facing_week)]
    if slow.empty:
        return pd.DataFrame(columns=DELIST_COLUMNS)
    slow = (
        slow.sort_values(["store", "per_facing_week", "sku"])
        .groupby("store")
        .head(settings.delists)
    )
    slow = slow.assign(rank=slow.groupby("store").cumcount() + 1)
    catalogue = _catalogue(products)
    out = []
    for store, group in slow.groupby("store"):
        targets = _space_targets(str(store), rates, adds, set(group["sku"]), catalogue)
        for i, (_, row) in enumerate(group.iterrows()):
            target = targets[i % len(targets)] if targets else (None, None, None, None)
            out.append(
                {
                    **row.to_dict(),
                    **dict(
                        zip(
                            ("give_to_sku", "give_to_name", "give_to_kind", "give_to_per_week"),
                            target,
                            strict=True,
                        )
                    ),
                }
            )
    table = pd.DataFrame(out).merge(catalogue, left_on="sku", right_index=True, how="left")
    table["evidence"] = table.apply(_delist_evidence, axis=1)
    return table[DELIST_COLUMNS].reset_index(drop=True)


def _space_targets(
    store: str, rates: pd.DataFrame, adds: pd.DataFrame, slow: set[str], catalogue: pd.DataFrame
) -> list[tuple[str, str | None, str, float]]:
    """What the freed facings could go to: the store's add candidates in rank order,
    then its fastest sellers per facing (to extend)."""
    names = catalogue["name"] if not catalogue.empty else pd.Series(dtype=object)
    targets: list[tuple[str, str | None, str, float]] = []
    if not adds.empty:
        for _, add in adds[adds["store"] == store].sort_values("rank").iterrows():
            targets.append((add["sku"], add["name"], "add", float(add["expected_per_week"])))
    mine = rates[(rates["store"] == store) & ~rates["sku"].isin(slow)]
    for _, fast in mine.sort_values("per_facing_week", ascending=False).head(3).iterrows():
        targets.append((fast["sku"], names.get(fast["sku"]), "extend", float(fast["per_week"])))
    return targets
