"""Row scoping: staff see their own store, a brand sees its own products only.

Staff scoping is by the store column every row carries (`store_for`, `require_store`).

Brand scoping needs to know which products are the brand's: `BrandView` reads the
catalogue and every layout slot (both carry `brand`) and splits the GTINs into the
brand's own and the others. Routes query with the own GTINs (so a limit counts visible
rows), and then `BrandView.mentions_foreign` checks each row's text as a backstop: a
row that still names another brand, one of its GTINs or one of its product names (a
"wrong product" seen in the brand's slot, a facings move naming the neighbour) has that
field stripped where it is a separate field, or is hidden. Snapshots are never shown to
a brand (an image shows every brand on the shelf).

The backstop errs on the side of hiding: another brand's product name is matched as
whole words, so a generic one ("Milk") also hides the brand's own rows that say "Milk".
Product names that start with their brand, as most do, avoid that.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from gateway.auth.access import CurrentPrincipal, Principal
from gateway.storage.connection import Database
from gateway.storage.layouts import list_layouts

_WORD_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_WORD_EDGE_AFTER = r"(?![0-9A-Za-z])"


def store_for(principal: Principal, requested: str | None) -> str | None:
    """The store a listing is limited to: staff get their own (403 when they ask for
    another one), everyone else what they asked for."""
    own = principal.stores_filter()
    if own is None:
        return requested
    if requested is not None and requested != own:
        raise HTTPException(403, f"role {principal.role} sees store {own} only")
    return own


def require_store(principal: Principal, store: str) -> None:
    """403 unless the principal may see this store."""
    if not principal.sees_store(store):
        raise HTTPException(403, f"role {principal.role} sees store {principal.store} only")


@dataclass(frozen=True)
class BrandView:
    """What one brand may see: its own GTINs, and a pattern for everything else."""

    brand: str
    own_skus: frozenset[str]
    foreign: re.Pattern[str] | None
    """Other brands' names, GTINs and product names, as whole words; None if none."""

    def owns(self, sku: str | None) -> bool:
        return sku is not None and sku in self.own_skus

    def mentions_foreign(self, value: Any) -> bool:
        """True when any text in `value` (nested dicts/lists, keys too) names another
        brand, a GTIN of another brand or one of its product names."""
        if self.foreign is None:
            return False
        return any(self.foreign.search(text) for text in _texts(value))

    def strip_foreign(self, record: dict[str, Any], *fields: str) -> dict[str, Any]:
        """A copy of `record` with the named fields set to None where they name another
        brand's product (e.g. the SKU a camera saw in the brand's slot)."""
        return {
            key: None if key in fields and self.mentions_foreign(value) else value
            for key, value in record.items()
        }

    def visible(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows that name nothing of another brand."""
        return [row for row in rows if not self.mentions_foreign(row)]


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def _catalogue_entries(db: Database) -> list[tuple[str, str | None, str | None]]:
    """(gtin, name, brand) of every product the gateway knows: catalogue and layouts."""
    with db.read() as conn:
        entries = [
            (r["gtin"], r["name"], r["brand"])
            for r in conn.execute("SELECT gtin, name, brand FROM products").fetchall()
        ]
    for record in list_layouts(db):
        for row in record["layout"].get("rows", []):
            for slot in row.get("slots", []):
                if slot.get("sku") or slot.get("brand") or slot.get("name"):
                    entries.append((slot.get("sku"), slot.get("name"), slot.get("brand")))
    return entries


def build_brand_view(db: Database, brand: str) -> BrandView:
    """Split every known product into the brand's own and the others' (matched
    case-insensitively, as `Principal.sees_brand` does)."""
    own_key = brand.casefold()
    own: set[str] = set()
    foreign: set[str] = set()
    entries = _catalogue_entries(db)
    for gtin, _name, product_brand in entries:
        if gtin and product_brand and product_brand.casefold() == own_key:
            own.add(gtin)
    own_names = {n.casefold() for g, n, _b in entries if g in own and n}
    for gtin, name, product_brand in entries:
        if product_brand and product_brand.casefold() == own_key:
            continue
        if gtin and gtin not in own:
            foreign.add(gtin)
        if name and name.casefold() not in own_names:
            foreign.add(name)
        if product_brand:
            foreign.add(product_brand)
    foreign.discard("")
    return BrandView(brand=brand, own_skus=frozenset(own), foreign=_pattern(foreign))


def _pattern(terms: set[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(f"{_WORD_EDGE_BEFORE}(?:{alternatives}){_WORD_EDGE_AFTER}", re.IGNORECASE)


class BrandViews:
    """Brand views cached until the catalogue or a layout changes (a cheap fingerprint
    query per request instead of re-reading every product)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[Any, ...], BrandView]] = {}

    def _fingerprint(self) -> tuple[Any, ...]:
        with self.db.read() as conn:
            products = conn.execute("SELECT count(*), max(updated_at) FROM products").fetchone()
            layouts = conn.execute("SELECT count(*), max(updated_at) FROM layouts").fetchone()
        return (*products, *layouts)

    def get(self, brand: str) -> BrandView:
        fingerprint = self._fingerprint()
        key = brand.casefold()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
        view = build_brand_view(self.db, brand)
        with self._lock:
            self._cache[key] = (fingerprint, view)
        return view

    def for_principal(self, principal: Principal) -> BrandView | None:
        """The principal's brand view; None for every kind that sees all brands."""
        if principal.kind != "brand" or principal.brand is None:
            return None
        return self.get(principal.brand)


def current_brand_view(request: Request, principal: CurrentPrincipal) -> BrandView | None:
    """The caller's brand view (None unless the caller is a brand)."""
    views: BrandViews = request.app.state.brand_views
    return views.for_principal(principal)


CurrentBrandView = Annotated[BrandView | None, Depends(current_brand_view)]
"""A route parameter of this type receives the caller's BrandView, or None."""


# ---- brand scoping of the API's records --------------------------------------------------


def brand_camera(view: BrandView, record: dict[str, Any]) -> dict[str, Any]:
    """A camera as a brand sees it: its own slots only, and no whole-shelf score (that
    figure is about every brand; the brand's own is in /compliance)."""
    state = record.get("state")
    if state is not None:
        slots = [
            view.strip_foreign(slot, "looks_like_sku")
            for slot in state.get("slots", [])
            if view.owns(slot.get("sku"))
        ]
        state = state | {"slots": slots, "score": None}
    health = record.get("health")
    if health is not None and view.mentions_foreign(health):
        health = view.strip_foreign(health, "last_error")
    return record | {"state": state, "score": None, "health": health}


def brand_layout(view: BrandView, record: dict[str, Any]) -> dict[str, Any]:
    """A layout with the brand's own slots only (rows kept, for their place on the
    shelf); other brands' slots are left out, not blanked."""
    layout = record["layout"]
    rows = [
        row | {"slots": [s for s in row.get("slots", []) if view.owns(s.get("sku"))]}
        for row in layout.get("rows", [])
    ]
    return record | {"layout": layout | {"rows": rows}}


def brand_compliance(
    view: BrandView, result: dict[str, Any], own: dict[str, Any]
) -> dict[str, Any]:
    """Compliance as a brand sees it: the score of its own slots (`own`, computed over
    the layout cut to them) and only its own entry of the per-brand breakdown (whose
    shares are of the whole shelf: that is the brand's share of shelf)."""
    brands = [b for b in result.get("brands", []) if b["brand"].casefold() == view.brand.casefold()]
    return result | {
        "score": own["score"],
        "credited_facings": own["credited_facings"],
        "expected_facings": own["expected_facings"],
        "slots_counted": own["slots_counted"],
        "brands": brands,
    }


def brand_events(view: BrandView, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events about the brand's products, with a seen other product stripped."""
    scoped = []
    for event in events:
        if not view.owns(event.get("sku")):
            continue
        detail = view.strip_foreign(event.get("detail") or {}, "looks_like_sku")
        scoped.append(event | {"detail": {k: v for k, v in detail.items() if v is not None}})
    return view.visible(scoped)


def brand_advice(view: BrandView, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Advice about the brand's products; advice whose action or reason names another
    brand's product (a facings move, a wrong product) is hidden."""
    scoped = []
    for item in items:
        if not view.owns(item.get("sku")):
            continue
        evidence = view.strip_foreign(item.get("evidence") or {}, "seen_sku", "from_sku")
        scoped.append(item | {"evidence": evidence})
    return view.visible(scoped)
