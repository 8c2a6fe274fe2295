"""A shelf section that lives on: shoppers buy, slots run empty, staff restock and tidy.

It renders what a camera on it would see, with the truth known exactly, so the demo, the
end-to-end measurements and the training data share one source of frames. Staff now and
then restock a slot with its neighbour's product (a misplaced product, truth
`wrong_product`) and put it right later.

A hidden stock-out (`hide`) is a slot that looks stocked to the camera while shoppers
cannot buy its product (it stands out of reach, behind another product or a display):
its sales stop until staff bring it forward (`reveal`). Its truth is `hidden_slots()`;
the slot's status stays what the camera sees.

Demand has its own random stream, apart from shoppers, mess, staff and rendering, so
two runs of one seed see the same shoppers wanting the same units whatever staff do
and whether or not frames are rendered. `lost_units` counts units wanted while the slot
could not supply them (empty, or its product hidden): what advice should reduce. The
staff actions (`restock`, `fix`, `tidy`, `reveal`) let a simulated store act on advice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from edge.layout import Layout, RowSpec, SlotSpec
from models.synth.camera_effects import CameraPose, Lighting
from models.synth.catalogue import Product, catalogue
from models.synth.geometry import ShelfGeometry, build_geometry, draw_background, fit_facings
from models.synth.products import ProductLook, natural_size
from models.synth.render import CameraLook, SlotView, render_frame
from models.synth.shopper import Shopper

OCCLUDED_FRACTION = 0.3
STEP_S = 60.0


@dataclass(frozen=True)
class Sale:
    """One till line: what sold, where it stood, when (simulated seconds since start)."""

    sku: str
    quantity: int
    unit_price: float
    at_s: float
    row: int
    slot: int


@dataclass(frozen=True)
class Box:
    """A ground-truth box, normalised to the frame."""

    label: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class RenderedFrame:
    image: np.ndarray
    boxes: list[Box]
    truth: dict[tuple[int, int], str]
    occluded: set[tuple[int, int]]


@dataclass
class SlotStock:
    """One slot's product and its changing stock."""

    product: Product
    facings: int
    depth: int
    units: int
    rank: list[int]  # order in which front facings empty (stable per slot)
    messy: bool = False
    messy_seed: int = 0  # how the units lie while messy
    mix: ProductLook | None = None  # a stray product a shopper left here, if any
    restock_at: float | None = None
    tidy_at: float | None = None
    shown: Product | None = None  # another product staff filled the slot with, if any
    shown_facings: int = 0  # how many of it fit side by side in the slot
    fix_at: float | None = None  # when staff put the right product back
    hidden: bool = False  # the product is out of shoppers' reach, though the slot looks stocked
    reveal_at: float | None = None  # when staff would notice and bring it forward unasked

    @property
    def on_shelf(self) -> Product:
        """The product actually standing in the slot."""
        return self.shown or self.product

    @property
    def capacity(self) -> int:
        return self.facings * self.depth

    @property
    def visible(self) -> int:
        return min(self.facings, math.ceil(self.units / self.depth))

    def view(self) -> SlotView:
        if self.shown is not None:
            # Staff filled the slot with as many of the other product as fit; it sells
            # down like the right one would.
            count = self.shown_facings or self.facings
            shown = math.ceil(count * self.visible / self.facings)
            present = [f < shown for f in range(count)]
        else:
            present = [self.rank[f] < self.visible for f in range(self.facings)]
        return SlotView(self.on_shelf.look, present, self.messy, self.messy_seed, self.mix)

    def status(self) -> str:
        """The truth, in the node's order: empty > messy > wrong_product > low > stocked."""
        if self.visible == 0:
            return "empty"
        if self.messy:
            return "messy"
        if self.shown is not None:
            return "wrong_product"
        return "low" if self.visible < self.facings else "stocked"


@dataclass
class _Visit:
    shopper: Shopper
    leaves_at: float


@dataclass
class SimulatedShelf:
    """See module docstring. Deterministic for a seed."""

    seed: int = 0
    rows: int = 4
    slots_per_row: int = 6
    size: tuple[int, int] = (640, 480)
    store: str = "demo"
    camera: str = "cam-1"
    shopper_rate: float = 0.15  # arrivals per simulated minute
    restock_delay_s: tuple[float, float] = (1200.0, 5400.0)
    messy_per_hour: float = 0.03
    misplace_chance: float = 0.25  # share of restocks done with the neighbour's product
    fix_delay_s: tuple[float, float] = (1800.0, 5400.0)
    clock_s: float = 0.0
    geometry: ShelfGeometry = field(init=False)
    slots: dict[tuple[int, int], SlotStock] = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self._rng = np.random.default_rng([self.seed, 1])
        # Their own streams, so misplacements leave sales, shoppers and mess as they were,
        # and demand stays the same whatever staff do and whether frames are rendered.
        self._staff_rng = np.random.default_rng([self.seed, 2])
        self._demand_rng = np.random.default_rng([self.seed, 3])
        self._render_rng = np.random.default_rng([self.seed, 4])
        self.lost_units = 0
        self.geometry = build_geometry(rng, self.size, self.rows, self.slots_per_row)
        products = catalogue()
        count = self.rows * self.slots_per_row
        picks = rng.choice(len(products), size=count, replace=count > len(products))
        keys = [(r.index, s.slot) for r in self.geometry.rows for s in r.slots]
        chosen = {key: products[int(picks[i])] for i, key in enumerate(keys)}
        self.geometry = fit_facings(self.geometry, {k: p.look for k, p in chosen.items()})
        self.slots = {}
        for row in self.geometry.rows:
            for slot in row.slots:
                depth = int(rng.integers(2, 7))
                self.slots[(row.index, slot.slot)] = SlotStock(
                    chosen[(row.index, slot.slot)],
                    slot.facings,
                    depth,
                    slot.facings * depth,
                    list(rng.permutation(slot.facings)),
                )
        self.camera_look = CameraLook(
            CameraPose.random(rng, self.size, 0.03), Lighting.random(rng, self.size), 0.6, 2.5, 88
        )
        self.prices = {key: s.product.price for key, s in self.slots.items()}
        self._visits: list[_Visit] = []
        self._background = np.empty((self.size[1], self.size[0], 3), np.uint8)
        draw_background(self._background, self.geometry)
        self._sales: list[Sale] = []

    # ---- the layout a calibration would draw --------------------------------------

    @cached_property
    def layout(self) -> Layout:
        """Slot rectangles as seen through the camera, with each slot's product."""
        w, h = self.size
        rows = []
        for row in self.geometry.rows:
            boxes = [
                self.camera_look.pose.box((s.x0, row.top, s.x1, row.floor), self.size)
                for s in row.slots
            ]
            y0 = min(b[1] for b in boxes) / h
            y1 = max(b[3] for b in boxes) / h
            specs = []
            for s, b in zip(row.slots, boxes, strict=True):
                stock = self.slots[(row.index, s.slot)]
                specs.append(
                    SlotSpec(
                        index=s.slot,
                        x0=round(min(b[0] / w, 0.998), 4),
                        x1=round(max(b[2] / w, min(b[0] / w, 0.998) + 0.002), 4),
                        sku=stock.product.gtin,
                        name=stock.product.name,
                        brand=stock.product.brand,
                        facings=stock.facings,
                        depth=stock.depth,
                    )
                )
            rows.append(RowSpec(index=row.index, y0=round(y0, 4), y1=round(y1, 4), slots=specs))
        return Layout(rows=rows)

    # ---- time passes ---------------------------------------------------------------

    def step(self, seconds: float) -> list[Sale]:
        """Advance simulated time; returns the sales made meanwhile."""
        sales: list[Sale] = []
        remaining = max(0.0, seconds)
        while remaining > 0:
            dt = min(STEP_S, remaining)
            remaining -= dt
            self.clock_s += dt
            sales.extend(self._sell(dt))
            self._staff()
            self._mess(dt)
            self._shoppers(dt)
        self._sales.extend(sales)
        return sales

    def _sell(self, dt: float) -> list[Sale]:
        """Every slot draws its demand (always, so the stream never shifts); what the
        slot cannot supply is lost."""
        sales = []
        for (row, slot), stock in self.slots.items():
            wanted = int(self._demand_rng.poisson(stock.product.units_per_hour * dt / 3600.0))
            sold = 0 if stock.hidden else min(wanted, stock.units)
            self.lost_units += wanted - sold
            if sold:
                stock.units -= sold
                product = stock.on_shelf
                sales.append(Sale(product.gtin, sold, product.price, self.clock_s, row, slot))
        return sales

    def _staff(self) -> None:
        lo, hi = self.restock_delay_s
        for key, stock in self.slots.items():
            if stock.visible < stock.facings and stock.restock_at is None:
                stock.restock_at = self.clock_s + float(self._rng.uniform(lo, hi))
            if stock.restock_at is not None and self.clock_s >= stock.restock_at:
                stock.units, stock.messy = stock.capacity, False
                stock.restock_at = stock.tidy_at = None
                self._restock_with(key, stock)
            if stock.tidy_at is not None and self.clock_s >= stock.tidy_at:
                stock.messy, stock.tidy_at = False, None
            if stock.fix_at is not None and self.clock_s >= stock.fix_at:
                self.fix(key)
            if stock.reveal_at is not None and self.clock_s >= stock.reveal_at:
                self.reveal(key)

    def _restock_with(self, key: tuple[int, int], stock: SlotStock) -> None:
        """Usually the right product; now and then the neighbour's (fixed later)."""
        draw, delay = self._staff_rng.random(), self._staff_rng.uniform(*self.fix_delay_s)
        neighbour = self.neighbour_product(key)
        if draw < self.misplace_chance and neighbour is not None:
            stock.shown, stock.fix_at = neighbour, self.clock_s + float(delay)
            stock.shown_facings = self._fitting(key, neighbour)
        else:
            stock.shown = stock.fix_at = None

    def _fitting(self, key: tuple[int, int], product: Product) -> int:
        """How many units of `product` stand side by side in a slot (as fit_facings)."""
        row = self.geometry.rows[key[0]]
        slot = next(s for s in row.slots if s.slot == key[1])
        width, _ = natural_size(product.look, row.clear_h)
        return max(1, int((slot.x1 - slot.x0) // (width * 1.04)))

    def neighbour_product(self, key: tuple[int, int]) -> Product | None:
        """The product of the nearest slot in the same row that holds a different one."""
        row, slot = key
        own = self.slots[key].product.gtin
        for distance in range(1, self.slots_per_row):
            for other in (slot + distance, slot - distance):
                stock = self.slots.get((row, other))
                if stock is not None and stock.product.gtin != own:
                    return stock.product
        return None

    def misplace(self, key: tuple[int, int], fix_after_s: float | None = None) -> None:
        """Fill a slot with its neighbour's product now (tests and demos plant one)."""
        stock = self.slots[key]
        stock.shown = self.neighbour_product(key)
        if stock.shown is not None:
            stock.shown_facings = self._fitting(key, stock.shown)
        stock.units = stock.capacity
        stock.fix_at = None if fix_after_s is None else self.clock_s + fix_after_s

    # ---- hidden stock-outs and staff acting on advice ------------------------------

    def hide(self, key: tuple[int, int], reveal_after_s: float | None = None) -> None:
        """A restock that leaves the product out of shoppers' reach: the slot looks full
        and right, nothing sells from it until `reveal` (by staff after `reveal_after_s`
        unasked, or sooner when told)."""
        stock = self.slots[key]
        stock.units, stock.messy, stock.tidy_at = stock.capacity, False, None
        stock.shown = stock.fix_at = stock.restock_at = None
        stock.hidden = True
        stock.reveal_at = None if reveal_after_s is None else self.clock_s + reveal_after_s

    def reveal(self, key: tuple[int, int]) -> None:
        """Staff bring the hidden product forward: it sells again."""
        stock = self.slots[key]
        stock.hidden, stock.reveal_at = False, None

    def hidden_slots(self) -> set[tuple[int, int]]:
        """The truth of hidden stock-outs: slots whose product cannot be bought."""
        return {key for key, stock in self.slots.items() if stock.hidden}

    def restock(self, key: tuple[int, int]) -> None:
        """Staff fill the slot with its own product now."""
        stock = self.slots[key]
        stock.units, stock.messy = stock.capacity, False
        stock.restock_at = stock.tidy_at = stock.shown = stock.fix_at = None

    def fix(self, key: tuple[int, int]) -> None:
        """Staff swap the wrong product for the right one, full."""
        stock = self.slots[key]
        stock.shown = stock.fix_at = None
        stock.units, stock.messy, stock.tidy_at = stock.capacity, False, None

    def tidy(self, key: tuple[int, int]) -> None:
        stock = self.slots[key]
        stock.messy, stock.tidy_at = False, None

    def _mess(self, dt: float) -> None:
        chance = self.messy_per_hour * dt / 3600.0
        for stock in self.slots.values():
            if not stock.messy and stock.visible > 0 and self._rng.random() < chance:
                self.make_messy(stock, self._rng)
                stock.tidy_at = self.clock_s + float(self._rng.uniform(1800, 9000))

    @staticmethod
    def make_messy(stock: SlotStock, rng: np.random.Generator) -> None:
        """Leave a slot disordered: units tilted, fallen, turned, pushed back or mixed
        with a stray product from elsewhere in the store."""
        products = catalogue()
        stock.messy = True
        stock.messy_seed = int(rng.integers(2**31))
        stray = products[int(rng.integers(len(products)))]
        stock.mix = stray.look if stray.gtin != stock.product.gtin else None

    def _shoppers(self, dt: float) -> None:
        self._visits = [v for v in self._visits if v.leaves_at > self.clock_s]
        for _ in range(int(self._rng.poisson(self.shopper_rate * dt / 60.0))):
            stay = float(self._rng.uniform(20, 150))
            self._visits.append(_Visit(Shopper.random(self._rng), self.clock_s + stay))

    def plant_shopper(self, shopper: Shopper | None = None, stay_s: float = 60.0) -> Shopper:
        """A shopper steps in front of the shelf now (tests and demos plant one)."""
        shopper = shopper or Shopper.random(self._rng)
        self._visits.append(_Visit(shopper, self.clock_s + stay_s))
        return shopper

    def drain_sales(self) -> list[Sale]:
        """Sales since the last drain (what the till would report)."""
        sales, self._sales = self._sales, []
        return sales

    # ---- what the camera sees --------------------------------------------------------

    def truth(self) -> dict[tuple[int, int], str]:
        return {key: stock.status() for key, stock in self.slots.items()}

    def render(self) -> RenderedFrame:
        views = {key: stock.view() for key, stock in self.slots.items()}
        shoppers = [v.shopper for v in self._visits]
        frame = render_frame(
            self.geometry,
            views,
            self.prices,
            self.camera_look,
            shoppers,
            self._render_rng,
            self._background,
        )
        w, h = self.size
        boxes = [Box(label, b[0] / w, b[1] / h, b[2] / w, b[3] / h) for label, b in frame.boxes]
        return RenderedFrame(frame.image, boxes, self.truth(), self._occluded(frame.shopper_mask))

    def _occluded(self, mask: np.ndarray | None) -> set[tuple[int, int]]:
        if mask is None or not mask.any():
            return set()
        w, h = self.size
        hidden = set()
        for row, slot, (x0, y0, x1, y1) in self.layout.slot_boxes():
            region = mask[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)]
            if region.size and (region > 0).mean() > OCCLUDED_FRACTION:
                hidden.add((row.index, slot.index))
        return hidden
