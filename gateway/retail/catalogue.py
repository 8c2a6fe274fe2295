"""The product catalogue: what each GTIN is (name, brand, category, pack size).

Imported from CSV (`gtin,name,brand,category,pack_size`, header required) or JSON
(`{"products": [...]}` or a list), through the API or `shelf-gateway catalogue import`.
A product is upserted by GTIN: importing the same file twice changes nothing, and a
newer file replaces the fields it gives (an empty optional cell clears that field).

What a GTIN is belongs to the catalogue: a layout may not rename or re-brand a known one
(`gateway.shelf.layout_guard`). Every change of a stored product (an import, or an
admin's `edit_product`) is logged in `product_changes`, one row per field: who, when,
the old and the new value, and how (`import`, `api`, `cli`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.retail.batch_import import (
    MAX_BATCH_LINES,
    ImportFileError,
    LineError,
    LineReport,
    batch_lines,
    file_lines,
)
from gateway.retail.pos import valid_gtin
from gateway.storage.connection import Database
from gateway.storage.sql import db_time
from gateway.storage.transactions import Transaction

FIELDS = ("name", "brand", "category", "pack_size")
CATALOGUE_CSV_REQUIRED = ("gtin", "name")
CATALOGUE_CSV_OPTIONAL = ("brand", "category", "pack_size")


class Product(BaseModel):
    """One catalogue entry."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    gtin: str = Field(description="GTIN-8/12/13/14 with a valid check digit.")
    name: str = Field(min_length=1, max_length=200)
    brand: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=100)
    pack_size: str | None = Field(
        default=None,
        max_length=64,
        description='As printed on the pack, e.g. "500 g", "6 x 330 ml".',
    )

    @field_validator("gtin", mode="before")
    @classmethod
    def _gtin(cls, value: Any) -> str:
        return valid_gtin(value)

    @field_validator("brand", "category", "pack_size", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


@dataclass
class CatalogueReport(LineReport):
    """What an import did: counts, and every rejected line with its position and field."""

    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[LineError] = field(default_factory=list)

    def summary(self, source: str) -> str:
        return (
            f"{source}: {self.received} product(s): {self.created} created, "
            f"{self.updated} updated, {self.unchanged} unchanged, {self.rejected_lines} rejected"
        )


def _log_changes(
    tx: Transaction,
    gtin: str,
    old: Sequence[str | None],
    new: Sequence[str | None],
    *,
    by: str,
    at: datetime,
    source: str,
) -> None:
    for name, before, after in zip(FIELDS, old, new, strict=True):
        if before != after:
            tx.execute(
                "INSERT INTO product_changes (gtin, field, old, new, changed_by, changed_at,"
                " source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (gtin, name, before, after, by, db_time(at), source),
            )


def upsert_products(
    tx: Transaction,
    products: Sequence[Product],
    at: datetime,
    *,
    by: str = "unknown",
    source: str = "import",
) -> list[str]:
    """Insert or update each product by GTIN; 'created', 'updated' or 'unchanged' each.
    Changed fields of a stored product are logged as changed `by` whom."""
    results = []
    for product in products:
        values = (product.name, product.brand, product.category, product.pack_size)
        old = tx.execute(
            "SELECT name, brand, category, pack_size FROM products WHERE gtin = ?",
            (product.gtin,),
        ).fetchone()
        if old is not None and tuple(old) == values:
            results.append("unchanged")
            continue
        tx.execute(
            "INSERT INTO products (gtin, name, brand, category, pack_size, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (gtin) DO UPDATE SET name = excluded.name,"
            " brand = excluded.brand, category = excluded.category,"
            " pack_size = excluded.pack_size, updated_at = excluded.updated_at",
            (product.gtin, *values, db_time(at)),
        )
        if old is not None:
            _log_changes(tx, product.gtin, tuple(old), values, by=by, at=at, source=source)
        results.append("created" if old is None else "updated")
    return results


class ProductNotFound(LookupError):
    """The GTIN is not in the catalogue."""


def edit_product(
    db: Database, gtin: str, changes: dict[str, str | None], *, by: str, source: str = "api"
) -> dict[str, Any]:
    """Change some fields of one product (validated like an imported line), logging each
    changed field; the product as stored now. ProductNotFound, or ValueError (pydantic's
    ValidationError) for a value the catalogue refuses."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}; known: {FIELDS}")
    now = datetime.now(UTC)
    with db.transaction() as tx:
        old = tx.execute(
            "SELECT name, brand, category, pack_size FROM products WHERE gtin = ?", (gtin,)
        ).fetchone()
        if old is None:
            raise ProductNotFound(f"GTIN {gtin} is not in the catalogue")
        edited = Product.model_validate(
            {"gtin": gtin, **dict(zip(FIELDS, old, strict=True)), **changes}
        )
        upsert_products(tx, [edited], now, by=by, source=source)
    found = product(db, gtin)
    assert found is not None
    return found


def product_changes(db: Database, gtin: str, limit: int = 100) -> list[dict[str, Any]]:
    """The logged changes of one product, newest first."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT gtin, field, old, new, changed_by, changed_at, source FROM product_changes"
            " WHERE gtin = ? ORDER BY id DESC LIMIT ?",
            (gtin, limit),
        ).fetchall()
    return [dict(r) for r in rows]


def store_products(
    db: Database,
    products: Sequence[tuple[int, Product]],
    errors: Sequence[LineError],
    *,
    by: str = "unknown",
    source: str = "import",
) -> CatalogueReport:
    """Upsert validated products in one transaction and count what happened; changes
    are logged as made `by` whom."""
    report = CatalogueReport.of(products, errors)
    with db.transaction() as tx:
        results = upsert_products(
            tx, [p for _, p in products], datetime.now(UTC), by=by, source=source
        )
    for result in results:
        setattr(report, result, getattr(report, result) + 1)
    return report


def parse_products_batch(
    items: Sequence[Any],
) -> tuple[list[tuple[int, Product]], list[LineError]]:
    """A JSON list: (index, product) for the good ones, errors naming index and field."""
    return batch_lines(Product, items)


def parse_products_csv(
    data: bytes | str, source: str
) -> tuple[list[tuple[int, Product]], list[LineError]]:
    """A CSV file (header required); ImportFileError if it cannot be read at all."""
    return file_lines(Product, data, source, CATALOGUE_CSV_REQUIRED, CATALOGUE_CSV_OPTIONAL)


def json_product_items(data: Any, source: str) -> list[Any]:
    """The list of products in a JSON document: `{"products": [...]}` or a bare list."""
    if isinstance(data, dict) and "products" in data:
        data = data["products"]
    if not isinstance(data, list):
        raise ImportFileError(f'{source}: expected {{"products": [...]}} or a list of products')
    if len(data) > MAX_BATCH_LINES * 10:
        raise ImportFileError(f"{source}: {len(data)} products; split the file")
    return data


def read_products_file(path: Path) -> tuple[list[tuple[int, Product]], list[LineError]]:
    """A catalogue file, CSV or JSON by its extension (.json; anything else is CSV)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"{path}: cannot read: {error.strerror}") from None
    if path.suffix.lower() != ".json":
        return parse_products_csv(data, str(path))
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"{path}: line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    good, errors = parse_products_batch(json_product_items(document, str(path)))
    return good, [LineError(e.message, e.field, index=e.index, source=str(path)) for e in errors]


def products(
    db: Database,
    *,
    brand: str | None = None,
    category: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Catalogue entries by GTIN; `search` matches name, brand or GTIN (case-insensitive)."""
    where, params = [], []
    for column, value in (("brand", brand), ("category", category)):
        if value is not None:
            where.append(f"{column} = ? COLLATE NOCASE")
            params.append(value)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "(name LIKE ? ESCAPE '\\' OR brand LIKE ? ESCAPE '\\' OR gtin LIKE ? ESCAPE '\\')"
        )
        params.extend([pattern] * 3)
    sql = "SELECT gtin, name, brand, category, pack_size, updated_at FROM products"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY gtin LIMIT ? OFFSET ?"
    params.extend([limit, offset])
    with db.read() as conn:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]


def names(db: Database, gtins: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """(name, brand) of the catalogued GTINs among `gtins`, in one query."""
    wanted = list(dict.fromkeys(gtins))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    with db.read() as conn:
        rows = conn.execute(
            f"SELECT gtin, name, brand FROM products WHERE gtin IN ({marks})", wanted
        ).fetchall()
    return {r["gtin"]: (r["name"], r["brand"]) for r in rows}


def product(db: Database, gtin: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(
            "SELECT gtin, name, brand, category, pack_size, updated_at FROM products"
            " WHERE gtin = ?",
            (gtin,),
        ).fetchone()
    return dict(row) if row else None
