"""HTTP routes for POS sales, the product catalogue and sales velocity.

Imports answer 200 with what happened to every line (accepted, duplicate, or rejected
with its index or CSV row, field and message): one bad line never drops the good ones.
A body that is not a batch at all (not JSON, no header row, not UTF-8) is a 422 naming
the problem.

Access: the catalogue is changed by admins only; sale lines are sent by an admin or a
store's staff token (lines of another store are rejected line by line); reading is
scoped to the caller's store (staff) or products (brand).

Newly stored sale lines go to the backend's `sales_stored` (the Gateway exports them and
lets the advice engine look at their store); velocity hours and weekdays are the store's
(`pos.timezone`; UTC over a bare database).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import IO, Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from edge.contract.ids import ID_PATTERN
from gateway.auth.access import EVERYONE, CurrentPrincipal, Principal, allow
from gateway.auth.scoping import CurrentBrandView, require_store, store_for
from gateway.retail import catalogue, pos, velocity_queries
from gateway.retail.batch_import import (
    MAX_BATCH_LINES,
    MAX_CSV_BYTES,
    Checked,
    ImportFileError,
    LineError,
    check_utf8_file,
    text_of,
)
from gateway.retail.sales_batches import BatchSpec
from gateway.web.backend import Backend
from gateway.web.params import BAD_BODY, MAX_LIMIT, MAX_ROW_ID, IsoTime

GTIN_PATTERN = r"^(\d{8}|\d{12,14})$"
MAX_CATALOGUE_BYTES = 32 * 1024 * 1024
"""Largest catalogue CSV (read whole: a catalogue is small)."""
SPOOL_IN_MEMORY = 1024 * 1024
"""A sales CSV upload is held in memory up to this size, then spooled to disk."""
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

router = APIRouter()
ReportT = TypeVar("ReportT")

_CSV_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A multipart body that cannot be parsed"},
    422: {"description": "No CSV in the body, or the file as a whole is unreadable"},
}

_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


# ---- request and response models -----------------------------------------------------


class SalesBatch(BaseModel):
    sales: list[Any] = Field(
        max_length=MAX_BATCH_LINES,
        description="Sale lines: id, time (ISO 8601 with offset), store, sku (GTIN), "
        "quantity (non-zero integer, negative = return), unit_price (>= 0), currency "
        "(optional ISO 4217). Each line is validated on its own.",
        examples=[
            [
                {
                    "id": "R1001-1",
                    "time": "2024-05-03T09:41:07+02:00",
                    "store": "store-1",
                    "sku": "4006381333931",
                    "quantity": 2,
                    "unit_price": "1.49",
                    "currency": "EUR",
                }
            ]
        ],
    )


class ProductsBatch(BaseModel):
    products: list[Any] = Field(
        max_length=MAX_BATCH_LINES,
        description="Products: gtin, name, brand, category, pack_size (upserted by GTIN).",
    )


class LineErrorOut(BaseModel):
    index: int | None = Field(default=None, description="0-based position in a JSON batch.")
    row: int | None = Field(default=None, description="CSV row as a spreadsheet shows it.")
    field: str | None = None
    message: str
    error: str = Field(description="The whole message, e.g. `sales.csv row 7: quantity: …`.")


def _errors_out(errors: Sequence[LineError]) -> list[LineErrorOut]:
    return [
        LineErrorOut(index=e.index, row=e.row, field=e.field, message=e.message, error=str(e))
        for e in errors
    ]


class SalesImportOut(BaseModel):
    batch: str = Field(
        description="This import's batch id: `DELETE /api/pos/batches/{batch}` undoes it."
    )
    received: int = Field(description="Lines in the request.")
    accepted: int = Field(description="Lines newly stored.")
    duplicates: int = Field(description="Lines already stored with the same content.")
    rejected: int = Field(description="Lines refused (see errors).")
    noted: int = Field(
        description="Accepted lines the screening noted (dated before the store's first "
        "data, or a quantity far beyond the SKU's history; see notes)."
    )
    flagged: int = Field(
        description="Of the noted lines, those kept but left out of velocity (quantity)."
    )
    errors: list[LineErrorOut] = Field(description=f"The first {pos.MAX_REPORTED} errors.")
    notes: list[LineErrorOut] = Field(description=f"The first {pos.MAX_REPORTED} notes.")


class CatalogueImportOut(BaseModel):
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[LineErrorOut]


class SaleOut(BaseModel):
    id: str
    time: datetime
    store: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str | None = None
    revenue: Decimal
    source: Literal["api", "csv", "mqtt"]
    received_at: datetime


class ProductOut(BaseModel):
    gtin: str
    name: str
    brand: str | None = None
    category: str | None = None
    pack_size: str | None = None
    updated_at: datetime


class ProductEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="Cannot be cleared.")
    brand: str | None = None
    category: str | None = None
    pack_size: str | None = None


class ProductChangeOut(BaseModel):
    gtin: str
    field: Literal["name", "brand", "category", "pack_size"]
    old: str | None = None
    new: str | None = None
    changed_by: str = Field(description="The user (or `cli:<login>`) who made the change.")
    changed_at: datetime
    source: str = Field(description="api, import or cli.")


class VelocityOut(BaseModel):
    store: str
    sku: str
    timezone: str = Field(description="The store's time zone: hours and weekdays are local.")
    window_start: date = Field(description="First local day of sales used.")
    window_end: date = Field(description="Day after the last one used (today is not used).")
    days: int
    units: int = Field(description="Units sold in the window (returns left out).")
    daily_rate: float = Field(description="Units per day over the window.")
    basis: Literal["sku", "none"] = Field(
        description="'none': no sales of this SKU in the window, every rate is 0."
    )
    at: datetime
    rate_now: float = Field(description="Expected units per hour at `at`.")
    expected_time_between_sales_h: float | None = Field(
        description="Mean hours from `at` to the next sale at the usual rates; null when "
        "the SKU has not sold in the window."
    )
    units_sold_today: int = Field(description="Units sold since local midnight before `at`.")
    last_sale: datetime | None = None
    today: list[float] = Field(description="Expected units per hour, hours 0-23 of `at`'s day.")
    weekdays: list[str] = Field(default=list(WEEKDAY_NAMES))
    hourly: list[list[float]] = Field(
        description="Expected units per hour: hourly[weekday][hour], Monday first."
    )


# ---- helpers -------------------------------------------------------------------------


async def _run_csv_import(run: Callable[[], ReportT]) -> ReportT:
    """Run a CSV import off the event loop (parsing and storing block); a file that is
    no CSV at all is a 422 naming the problem, not a 500."""
    try:
        return await run_in_threadpool(run)
    except ImportFileError as error:
        raise HTTPException(422, str(error)) from None


async def _import_csv(request: Request, run: Callable[[bytes, str], ReportT]) -> ReportT:
    """Read a small CSV from the request (see `_csv_body`) and import it with
    `run(data, name)` (see `_run_csv_import`)."""
    data, name = await _csv_body(request)
    return await _run_csv_import(lambda: run(data, name))


async def _csv_body(request: Request) -> tuple[bytes, str]:
    """The CSV bytes and a name for error messages, from a text/csv body or an upload
    (the catalogue: small, read whole)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_CATALOGUE_BYTES:
        raise HTTPException(413, f"CSV larger than {MAX_CATALOGUE_BYTES} bytes; split it")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "multipart upload: no file in field 'file'")
        data = await upload.read()
        name = upload.filename or "upload.csv"
    elif content_type in CSV_TYPES or not content_type:
        data = await request.body()
        name = request.query_params.get("filename") or "upload.csv"
    else:
        raise HTTPException(415, f"send text/csv or a multipart upload, not {content_type}")
    if len(data) > MAX_CATALOGUE_BYTES:
        raise HTTPException(413, f"CSV larger than {MAX_CATALOGUE_BYTES} bytes; split it")
    return data, name


async def _spooled_csv(request: Request) -> tuple[IO[bytes], str]:
    """The CSV of a text/csv body or a multipart upload as a file (spooled to disk past
    1 MiB, so memory stays flat however big it is) and a name for messages."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_CSV_BYTES:
        raise HTTPException(413, f"CSV larger than {MAX_CSV_BYTES} bytes; split it")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "multipart upload: no file in field 'file'")
        if upload.size is not None and upload.size > MAX_CSV_BYTES:
            raise HTTPException(413, f"CSV larger than {MAX_CSV_BYTES} bytes; split it")
        return upload.file, upload.filename or "upload.csv"
    if content_type not in CSV_TYPES and content_type:
        raise HTTPException(415, f"send text/csv or a multipart upload, not {content_type}")
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed by the route)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_CSV_BYTES:
            spool.close()
            raise HTTPException(413, f"CSV larger than {MAX_CSV_BYTES} bytes; split it")
        spool.write(chunk)
    spool.seek(0)
    return spool, request.query_params.get("filename") or "upload.csv"


def _own_store(
    principal: Principal, items: Iterable[Checked[pos.SaleLine]], source: str | None
) -> Iterator[Checked[pos.SaleLine]]:
    """Staff send their own store's sales only: other stores' lines become line errors."""
    own = principal.stores_filter()
    for item in items:
        if own is None or isinstance(item, list) or item[1].store == own:
            yield item
            continue
        at, line = item
        yield [
            LineError(
                f"{principal.role} may send sales of store {own} only, not {line.store}",
                "store",
                **({"row": at, "source": source} if source else {"index": at}),
            )
        ]


def _sales_out(report: pos.ImportReport) -> SalesImportOut:
    return SalesImportOut(
        batch=report.batch or "",
        received=report.received,
        accepted=report.accepted,
        duplicates=report.duplicates,
        rejected=report.rejected_lines,
        noted=report.noted,
        flagged=report.flagged,
        errors=_errors_out(report.rejected),
        notes=_errors_out(report.notes),
    )


def _catalogue_out(report: catalogue.CatalogueReport) -> CatalogueImportOut:
    return CatalogueImportOut(
        received=report.received,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=report.rejected_lines,
        errors=_errors_out(report.rejected),
    )


# ---- routes --------------------------------------------------------------------------


@router.post(
    "/pos/sales",
    response_model=SalesImportOut,
    tags=["pos"],
    responses=BAD_BODY,
    dependencies=[allow("admin", "staff")],
)
def post_sales(batch: SalesBatch, backend: Backend, principal: CurrentPrincipal) -> SalesImportOut:
    """Store a batch of sale lines as one import batch (its id in the answer);
    idempotent by (store, id). Lines are screened (sales import rules, INSTALL.md):
    refused ones are errors, kept-but-noted ones are notes."""
    items = _own_store(principal, pos.iter_sales_batch(batch.sales), None)
    report = pos.store_stream(
        backend.db,
        items,
        source="api",
        batch=BatchSpec("api", None, principal.name),
        on_stored=backend.sales_stored,
    )
    return _sales_out(report)


@router.post(
    "/pos/sales/csv",
    response_model=SalesImportOut,
    tags=["pos"],
    openapi_extra=_CSV_BODY,
    responses=_CSV_ERRORS,
    dependencies=[allow("admin", "staff")],
)
async def post_sales_csv(
    request: Request, backend: Backend, principal: CurrentPrincipal
) -> SalesImportOut:
    """Import a CSV of sale lines (header: id,time,store,sku,quantity,unit_price
    [,currency]) as a text/csv body or a multipart upload in field `file`, as one import
    batch (its id in the answer). The file is streamed: spooled to disk, checked to be
    UTF-8 (else 422, nothing stored), then read and stored a chunk of lines at a time,
    so the gateway's memory stays flat whatever its size (up to MAX_CSV_BYTES). Lines
    are screened like any import (INSTALL.md, sales import)."""
    spool, name = await _spooled_csv(request)

    def run() -> pos.ImportReport:
        check_utf8_file(spool, name)
        items = _own_store(principal, pos.iter_sales_csv(text_of(spool), name), name)
        return pos.store_stream(
            backend.db,
            items,
            source="csv",
            batch=BatchSpec("csv", name, principal.name),
            csv_source=name,
            on_stored=backend.sales_stored,
        )

    try:
        report = await _run_csv_import(run)
    finally:
        spool.close()
    return _sales_out(report)


@router.get(
    "/pos/sales",
    response_model=list[SaleOut],
    tags=["pos"],
    dependencies=[allow("admin", "staff", "merchandiser", "brand")],
)
def get_sales(
    backend: Backend,
    principal: CurrentPrincipal,
    view: CurrentBrandView,
    store: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    sku: Annotated[str | None, Query(pattern=GTIN_PATTERN)] = None,
    since: Annotated[IsoTime | None, Query(description="Sold at or after (ISO 8601).")] = None,
    until: Annotated[IsoTime | None, Query(description="Sold before (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[dict[str, Any]]:
    """Stored sale lines, newest first (staff: their store's; a brand: its products')."""
    return pos.sales(
        backend.db,
        store=store_for(principal, store),
        sku=sku,
        since=since,
        until=until,
        skus=None if view is None else view.own_skus,
        limit=limit,
    )


@router.post(
    "/catalogue",
    response_model=CatalogueImportOut,
    tags=["catalogue"],
    responses=BAD_BODY,
    dependencies=[allow("admin")],
)
def post_catalogue(
    batch: ProductsBatch, backend: Backend, principal: CurrentPrincipal
) -> CatalogueImportOut:
    """Create or update products by GTIN (each changed field is logged with the caller)."""
    good, errors = catalogue.parse_products_batch(batch.products)
    report = catalogue.store_products(backend.db, good, errors, by=principal.name, source="api")
    return _catalogue_out(report)


@router.post(
    "/catalogue/csv",
    response_model=CatalogueImportOut,
    tags=["catalogue"],
    openapi_extra=_CSV_BODY,
    responses=_CSV_ERRORS,
    dependencies=[allow("admin")],
)
async def post_catalogue_csv(
    request: Request, backend: Backend, principal: CurrentPrincipal
) -> CatalogueImportOut:
    """Import a CSV of products (header: gtin,name[,brand,category,pack_size]); each
    changed field is logged with the caller."""

    def run(data: bytes, name: str) -> catalogue.CatalogueReport:
        good, errors = catalogue.parse_products_csv(data, name)
        return catalogue.store_products(backend.db, good, errors, by=principal.name, source="api")

    return _catalogue_out(await _import_csv(request, run))


@router.get(
    "/catalogue",
    response_model=list[ProductOut],
    tags=["catalogue"],
    dependencies=[allow(*EVERYONE)],
)
def get_catalogue(
    backend: Backend,
    principal: CurrentPrincipal,
    brand: str | None = None,
    category: str | None = None,
    q: Annotated[str | None, Query(description="Part of a name, brand or GTIN.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> list[dict[str, Any]]:
    """Catalogue entries ordered by GTIN (a brand: its own products only)."""
    if principal.kind == "brand":
        if brand is not None and not principal.sees_brand(brand):
            return []
        brand = principal.brand
    return catalogue.products(
        backend.db, brand=brand, category=category, search=q, limit=limit, offset=offset
    )


@router.get(
    "/catalogue/{gtin}",
    response_model=ProductOut,
    responses={404: {"description": "Not in the catalogue"}},
    tags=["catalogue"],
    dependencies=[allow(*EVERYONE)],
)
def get_product(gtin: str, backend: Backend, principal: CurrentPrincipal) -> dict[str, Any]:
    """One product by GTIN (a brand: its own products only)."""
    record = catalogue.product(backend.db, gtin)
    if record is None or not principal.sees_brand(record["brand"]):
        raise HTTPException(404, f"GTIN {gtin} is not in the catalogue")
    return record


@router.patch(
    "/catalogue/{gtin}",
    response_model=ProductOut,
    responses={404: {"description": "Not in the catalogue"}} | BAD_BODY,
    tags=["catalogue"],
    dependencies=[allow("admin")],
)
def patch_product(
    gtin: str, edit: ProductEdit, backend: Backend, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Change a product's name, brand, category or pack size (admin only): the one way
    to re-brand a GTIN, since layouts may not. Each changed field is logged (who, when,
    old, new: `GET /api/catalogue/{gtin}/changes`); a field sent as null is cleared."""
    try:
        return catalogue.edit_product(
            backend.db, gtin, edit.model_dump(exclude_unset=True), by=principal.name
        )
    except catalogue.ProductNotFound as error:
        raise HTTPException(404, str(error)) from None
    except ValidationError as error:
        raise RequestValidationError(
            [e | {"loc": ("body", *e["loc"])} for e in error.errors()]
        ) from None


@router.get(
    "/catalogue/{gtin}/changes",
    response_model=list[ProductChangeOut],
    tags=["catalogue"],
    dependencies=[allow("admin")],
)
def get_product_changes(
    gtin: str,
    backend: Backend,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[dict[str, Any]]:
    """Who changed what of a product and when, newest first (admin only)."""
    return catalogue.product_changes(backend.db, gtin, limit)


@router.get(
    "/velocity",
    response_model=VelocityOut,
    tags=["pos"],
    dependencies=[allow("admin", "staff", "merchandiser", "brand")],
)
def get_velocity(
    backend: Backend,
    principal: CurrentPrincipal,
    view: CurrentBrandView,
    store: Annotated[str, Query(pattern=ID_PATTERN)],
    sku: Annotated[str, Query(pattern=GTIN_PATTERN)],
    at: Annotated[
        IsoTime | None, Query(description="Moment of interest (ISO 8601; default now).")
    ] = None,
    window_days: Annotated[int | None, Query(ge=1, le=366)] = None,
) -> VelocityOut:
    """Expected sales per hour of a SKU by local weekday and hour, from the last
    complete days of sales (an empirical-Bayes estimate, sensible for slow movers)."""
    require_store(principal, store)
    if view is not None and not view.owns(sku):
        raise HTTPException(403, f"role {principal.role} sees its own products only")
    settings = backend.settings.pos
    tz = settings.zone
    if at is None:
        at = datetime.now(UTC)
    elif at.tzinfo is None:
        raise HTTPException(422, "at: needs a UTC offset, e.g. 2024-05-03T09:00:00Z")
    elif not 1970 < at.year < 9999:  # the window before `at` must be a real date range
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "at"),
                    "msg": f"{at.isoformat()} is outside the years 1971-9998",
                    "type": "value_error",
                }
            ]
        )
    profile = velocity_queries.velocity_profile(
        backend.db,
        store,
        sku,
        tz=tz,
        window_days=window_days or settings.velocity_window_days,
        now=at,
    )
    local = at.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    wait = profile.expected_time_between_sales(at)
    return VelocityOut(
        store=store,
        sku=sku,
        timezone=settings.timezone,
        window_start=profile.window_start,
        window_end=profile.window_end,
        days=profile.days,
        units=profile.units,
        daily_rate=round(profile.daily_rate, 4),
        basis=profile.basis,
        at=at,
        rate_now=round(profile.rate_at(at), 4),
        expected_time_between_sales_h=None if wait is None else round(wait / timedelta(hours=1), 3),
        units_sold_today=velocity_queries.units_sold(backend.db, store, sku, midnight, at),
        last_sale=velocity_queries.last_sale(backend.db, store, sku),
        today=[round(float(r), 4) for r in profile.rates[local.weekday()]],
        hourly=[[round(float(r), 4) for r in day] for day in profile.rates],
    )
