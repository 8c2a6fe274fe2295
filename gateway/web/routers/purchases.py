"""HTTP routes for the purchase list: the suggestion, draft orders, editing, accepting,
and each order as CSV for its supplier.

The suggestion (`GET /api/purchases/suggestion`) is computed fresh from sales, stock,
orders and price lists (`gateway.retail.purchasing`); `POST /api/purchases/drafts`
saves it as the store's draft orders (one per supplier), which the store manager edits
(`PUT .../lines/{gtin}`) and accepts (`POST .../accept`: on order until received).

Access: admins and the store's manager (`staff:<store>:manager`) make drafts, edit and
accept them; the store's other staff and merchandisers read them and download the CSV.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from edge.contract.ids import ID_PATTERN
from gateway.auth.access import CurrentPrincipal, Principal, allow
from gateway.auth.scoping import require_store
from gateway.retail import catalogue, purchase_orders, purchasing
from gateway.retail.replenishment import DEFAULT_ROUND_DOWN_SHARE, DEFAULT_SERVICE_LEVEL
from gateway.web.backend import Backend
from gateway.web.params import BAD_BODY, MAX_ROW_ID

router = APIRouter()
OrderId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Purchase order id.")]
READERS = ("admin", "merchandiser", "staff")
ServiceLevel = Annotated[
    float,
    Query(ge=0.5, lt=1.0, description="Chance of no stock-out before the next delivery."),
]
RoundDownShare = Annotated[
    float,
    Query(
        ge=0.0,
        le=1.0,
        description="Share of the safety stock that rounding down to the nearest pack may "
        "leave uncovered (0: every shortfall rounded up to whole packs).",
    ),
]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such order or line"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "The order is not a draft"}}


class SuggestionLineOut(BaseModel):
    gtin: str
    name: str | None
    packs: int
    pack_size: int
    units: int
    pack_price: str
    value: float
    why: dict[str, Any] = Field(
        description="forecast (units over forecast_days), safety_stock (over safety_days: "
        "until the quickest supplier could correct a shortfall), order_up_to, on_hand, "
        "on_order, capacity (shelf + backroom), room, shortfall, rounded_down (units of the "
        "shortfall left to the safety stock: the nearest pack was below), pack_rounding, "
        "topup_units, unit_price and the cheapest single supplier's."
    )


class SuggestionOrderOut(BaseModel):
    supplier: str
    expected_on: str
    value: float
    delivery_fee: float
    topped_up_for: str | None
    terms: dict[str, Any]
    lines: list[SuggestionLineOut]


class SuggestionOut(BaseModel):
    store: str
    generated_at: str
    service_level: float
    round_down_share: float
    skus_checked: int
    method: str = Field(description="'exact' or 'heuristic' supplier search.")
    cost: float = Field(
        description="What the plan is chosen on: each SKU's common demand window at its "
        "supplier's prices + holding of extra cover and extra units + amortised delivery fees."
    )
    cash: float = Field(description="Order values + delivery fees.")
    baseline_cost: float = Field(description="The same, buying each GTIN from its cheapest.")
    baseline_cash: float
    saving: float
    saving_pct: float
    orders: list[SuggestionOrderOut]
    unbought: list[dict[str, Any]]


class OrderLineOut(BaseModel):
    gtin: str
    name: str | None = None
    pack_size: int
    pack_price: str
    packs: int
    suggested_packs: int
    units: int
    received_units: int
    value: str
    why: dict[str, Any] | None


class OrderOut(BaseModel):
    id: int
    store: str
    supplier: str
    status: Literal["draft", "on_order", "received"]
    created_at: str
    created_by: str | None
    accepted_at: str | None
    accepted_by: str | None
    expected_on: str | None
    received_at: str | None
    value: str
    delivery_fee: str
    why: dict[str, Any] | None
    lines: list[OrderLineOut]


class PacksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    packs: int = Field(ge=0, le=100_000, description="Packs to order; 0 drops the line.")


def _require_a_manager(principal: Principal) -> None:
    """403 before anything is looked up, for callers who manage no store at all."""
    if principal.kind != "admin" and not principal.manager:
        raise HTTPException(
            403,
            f"role {principal.role}: purchase orders are changed by an admin or the store's "
            "manager (staff:<store>:manager)",
        )


def _require_manager(principal: Principal, store: str) -> None:
    if not principal.manages_store(store):
        raise HTTPException(
            403,
            f"role {principal.role}: purchase orders of store {store} are changed by an admin "
            f"or its manager (staff:{store}:manager)",
        )


def _named(backend: Backend, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = catalogue.names(backend.db, [x["gtin"] for o in orders for x in o["lines"]])
    for order in orders:
        for line in order["lines"]:
            line["name"] = names.get(line["gtin"], (None, None))[0]
    return orders


def _order(backend: Backend, principal: Principal, order_id: int) -> dict[str, Any]:
    try:
        order = purchase_orders.get_order(backend.db, order_id)
    except purchase_orders.OrderNotFound as error:
        raise HTTPException(404, str(error)) from None
    require_store(principal, order["store"])
    return order


def _change(
    backend: Backend, principal: Principal, order_id: int, change: Callable[[], None]
) -> dict[str, Any]:
    """Apply a manager's change to an order, checking who may before looking it up; the
    order as it is now. A missing order or line is a 404, a change its state forbids a 409."""
    _require_a_manager(principal)
    order = _order(backend, principal, order_id)
    _require_manager(principal, order["store"])
    try:
        change()
    except purchase_orders.OrderNotFound as error:
        raise HTTPException(404, str(error)) from None
    except purchase_orders.OrderStateError as error:
        raise HTTPException(409, str(error)) from None
    return _named(backend, [purchase_orders.get_order(backend.db, order_id)])[0]


@router.get(
    "/purchases/suggestion",
    response_model=SuggestionOut,
    tags=["purchases"],
    dependencies=[allow(*READERS)],
)
def get_suggestion(
    backend: Backend,
    principal: CurrentPrincipal,
    store: Annotated[str, Query(pattern=ID_PATTERN)],
    service_level: ServiceLevel = DEFAULT_SERVICE_LEVEL,
    round_down_share: RoundDownShare = DEFAULT_ROUND_DOWN_SHARE,
) -> dict[str, Any]:
    """What to order now, from whom, and why (computed, not saved)."""
    require_store(principal, store)
    suggestion = purchasing.suggest(
        backend.db,
        store,
        tz=backend.settings.pos.zone,
        service_level=service_level,
        round_down_share=round_down_share,
    )
    return suggestion.as_dict()


@router.post(
    "/purchases/drafts",
    response_model=list[OrderOut],
    tags=["purchases"],
    dependencies=[allow("admin", "staff")],
)
def post_drafts(
    backend: Backend,
    principal: CurrentPrincipal,
    store: Annotated[str, Query(pattern=ID_PATTERN)],
    service_level: ServiceLevel = DEFAULT_SERVICE_LEVEL,
    round_down_share: RoundDownShare = DEFAULT_ROUND_DOWN_SHARE,
) -> list[dict[str, Any]]:
    """Save the suggestion as the store's draft orders (replacing earlier drafts)."""
    require_store(principal, store)
    _require_manager(principal, store)
    suggestion = purchasing.suggest(
        backend.db,
        store,
        tz=backend.settings.pos.zone,
        service_level=service_level,
        round_down_share=round_down_share,
    )
    ids = purchase_orders.replace_drafts(backend.db, store, suggestion.drafts(), by=principal.name)
    return _named(backend, [purchase_orders.get_order(backend.db, i) for i in ids])


@router.get(
    "/purchases",
    response_model=list[OrderOut],
    tags=["purchases"],
    dependencies=[allow(*READERS)],
)
def get_orders(
    backend: Backend,
    principal: CurrentPrincipal,
    store: Annotated[str, Query(pattern=ID_PATTERN)],
    status: Literal["draft", "on_order", "received"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """The store's purchase orders, newest first."""
    require_store(principal, store)
    orders = purchase_orders.list_orders(backend.db, store=store, status=status, limit=limit)
    return _named(backend, orders)


@router.get(
    "/purchases/{order_id:int}",
    response_model=OrderOut,
    tags=["purchases"],
    responses=_NOT_FOUND,
    dependencies=[allow(*READERS)],
)
def get_order(
    backend: Backend,
    principal: CurrentPrincipal,
    order_id: OrderId,
) -> dict[str, Any]:
    return _named(backend, [_order(backend, principal, order_id)])[0]


@router.put(
    "/purchases/{order_id:int}/lines/{gtin}",
    response_model=OrderOut,
    tags=["purchases"],
    responses=_NOT_FOUND | _CONFLICT | BAD_BODY,
    dependencies=[allow("admin", "staff")],
)
def put_line(
    body: PacksIn,
    backend: Backend,
    principal: CurrentPrincipal,
    order_id: OrderId,
    gtin: str,
) -> dict[str, Any]:
    """Change the packs of one line of a draft."""
    return _change(
        backend,
        principal,
        order_id,
        lambda: purchase_orders.set_packs(backend.db, order_id, gtin, body.packs),
    )


@router.post(
    "/purchases/{order_id:int}/accept",
    response_model=OrderOut,
    tags=["purchases"],
    responses=_NOT_FOUND | _CONFLICT,
    dependencies=[allow("admin", "staff")],
)
def post_accept(
    backend: Backend,
    principal: CurrentPrincipal,
    order_id: OrderId,
) -> dict[str, Any]:
    """Accept a draft: its lines are on order until goods receipts for them arrive."""
    return _change(
        backend,
        principal,
        order_id,
        lambda: purchase_orders.accept(backend.db, order_id, by=principal.name),
    )


@router.get(
    "/purchases/{order_id:int}/csv",
    tags=["purchases"],
    responses=_NOT_FOUND | {200: {"content": {"text/csv": {}}, "description": "The order"}},
    response_class=Response,
    dependencies=[allow(*READERS)],
)
def get_order_csv(
    backend: Backend,
    principal: CurrentPrincipal,
    order_id: OrderId,
) -> Response:
    """The order as CSV for its supplier (supplier, gtin, name, packs, pack_size, units,
    pack_price, value)."""
    order = _order(backend, principal, order_id)
    names = {
        g: n
        for g, (n, _) in catalogue.names(backend.db, [x["gtin"] for x in order["lines"]]).items()
    }
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in order["supplier"])
    return Response(
        purchase_orders.order_csv(order, names),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="order-{order_id}-{safe}.csv"'},
    )
