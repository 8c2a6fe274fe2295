"""Advice sentences in any language: what the rules say, as a catalogue key and raw figures.

Every `action` and `reason` an advice carries is built here as a `Phrase`: a key of the
web UI's `advice` catalogue (gateway/web/static/i18n/<lang>/advice.json) and its
arguments as raw values (minutes, units a day, a chance, a product name as given, a
place as a nested phrase). The English text is rendered from the same template, so the
English the MQTT displays, exports and old clients read and the phrase a page
translates cannot say different things. `TEMPLATES` is that English; the catalogue's
English must equal it (a test checks it), and the Chinese must use the same
placeholders.

Placeholders follow the web UI's i18n.js: `{name}` or `{name:format}`, the formats
rendered here as the English has always written them ("42 min", "1.5 h", "3.2 a day",
"12.3%").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TEMPLATES: dict[str, str] = {
    # actions
    "advice.restock": "Restock {product} at {where}",
    "advice.restock_within": "Restock {product} at {where} within {minutes:minutes}",
    "advice.check_display": "Check the display of {product} at {where}: it may be out of "
    "stock behind what the camera sees",
    "advice.put_back": "Put {product} back at {where} and take away the other product",
    "advice.put_back_seen": "Put {product} back at {where} and take away the other product "
    "({seen})",
    "advice.tidy": "Tidy {product} at {where}",
    "advice.move_facing": "Move a facing from {slow} ({slow_place}) to {fast} ({fast_place}) "
    "on {camera}",
    # reasons
    "advice.empty_for": "empty for {minutes:minutes}",
    "advice.empty_selling": "empty for {minutes:minutes}; sells {daily:perDay}, about "
    "{lost:num1} sales lost so far",
    "advice.low_for": "low for {minutes:minutes}",
    "advice.low_selling": "low for {minutes:minutes}; sells {daily:perDay}",
    "advice.supply_left": "about {on_shelf:num} of {capacity} left after {sold:num} sold since "
    "the restock: {hours:num1} h of supply at {daily:perDay}",
    "advice.no_sale": "no sale for {minutes:minutes} where {expected:num1} were expected "
    "(chance {p:pct1}) while the camera sees {seen}",
    "advice.wrong_product_for": "wrong product for {minutes:minutes}",
    "advice.misplaced_for": "misplaced for {minutes:minutes}",
    "advice.messy_for": "messy for {minutes:minutes}",
    "advice.supply_compare": "{fast} has {fast_now} of supply, {slow} {slow_now}; after the "
    "move {fast_after} and {slow_after}",
    "advice.with_also": "{reason} (also: {also})",
    "advice.also_item": "{kind}: {reason}",
    "advice.also_more": "{first}; {rest}",
    # parts
    "advice.where": "{bay} {place}",
    "advice.place_row": "row {row} slot {slot}",
    "advice.place_shelf": "shelf {shelf} slot {slot}",
    "advice.the_product": "the product",
    "advice.seen_other": "another product",
    "advice.seen_stocked": "it stocked",
    "advice.seen_low": "it low",
    "advice.seen_messy": "it messy",
    "advice.days": "{days:days}",
    "advice.days_unlimited": "unlimited days",
    "advice.kind_restock": "restock",
    "advice.kind_predicted_stockout": "predicted stockout",
    "advice.kind_hidden_stockout": "hidden stockout",
    "advice.kind_fix_display": "fix display",
    "advice.kind_tidy": "tidy",
    "advice.kind_facings": "facings",
}
"""Every sentence and part the rules say, in English, by catalogue key."""

PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")
"""`{name}` or `{name:format}`, as i18n.js reads them."""


def span(minutes: float) -> str:
    """Minutes as people read them: "45 s", "12 min", "3.5 h"."""
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def days_text(days: float) -> str:
    return f"{days:.1f} days" if days >= 1 else span(days * 24 * 60)


def per_day(daily: float) -> str:
    """A sales rate as staff count it: "12 a day" ("0.4 a day" for a slow one)."""
    return f"{daily:.0f} a day" if daily >= 10 else f"{daily:.1f} a day"


FORMATS: dict[str, Callable[[float], str]] = {
    "num": lambda v: f"{v:.0f}",
    "num1": lambda v: f"{v:.1f}",
    "num2": lambda v: f"{v:.2f}",
    "pct": lambda v: f"{v:.0%}",
    "pct1": lambda v: f"{v:.1%}",
    "minutes": span,
    "days": days_text,
    "perDay": per_day,
}
"""The English of each i18n.js format the advice templates use."""


def placeholders(template: str) -> dict[str, str | None]:
    """{name: format or None} of a template."""
    return {name: fmt or None for name, fmt in PLACEHOLDER.findall(template)}


@dataclass(frozen=True)
class Phrase:
    """A sentence as a catalogue key and its raw arguments (numbers stay numbers; an
    argument may itself be a phrase, e.g. the place). Checked when made: the key exists
    and the arguments are exactly the template's placeholders."""

    key: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        template = TEMPLATES.get(self.key)
        if template is None:
            raise KeyError(f"advice phrase {self.key!r} has no template")
        wanted = set(placeholders(template))
        if set(self.args) != wanted:
            raise ValueError(
                f"advice phrase {self.key}: arguments {sorted(self.args)}, template wants "
                f"{sorted(wanted)}"
            )

    def english(self) -> str:
        return fill(TEMPLATES[self.key], self.args)

    def to_json(self) -> dict[str, Any]:
        """`{"key": ..., "args": {...}}`, nested phrases as the same shape."""
        return {
            "key": self.key,
            "args": {k: v.to_json() if isinstance(v, Phrase) else v for k, v in self.args.items()},
        }


def fill(template: str, args: Mapping[str, Any], language: Mapping[str, str] = TEMPLATES) -> str:
    """The template with its placeholders filled in English (as i18n.js fills them in
    the user's language); nested phrases are rendered from `language` first."""

    def one(match: re.Match[str]) -> str:
        name, fmt = match.group(1), match.group(2)
        if name not in args:
            return match.group(0)
        value = args[name]
        if isinstance(value, Phrase):
            return fill(language[value.key], value.args, language)
        if isinstance(value, dict) and "key" in value:
            return fill(language[value["key"]], value.get("args") or {}, language)
        if fmt is not None and isinstance(value, int | float):
            return FORMATS[fmt](value)
        return str(value)

    return PLACEHOLDER.sub(one, template)


# ---- the parts the rules share --------------------------------------------------------


def place(row: int, slot: int, shelf: str | None) -> Phrase:
    """A slot on its bay as every page shows it: the layout's shelf label where it gives
    one, rows and slots counted from 1 (the layout and the wire count from 0)."""
    if shelf:
        return Phrase("advice.place_shelf", {"shelf": shelf, "slot": slot + 1})
    return Phrase("advice.place_row", {"row": row + 1, "slot": slot + 1})


def where(bay: str, row: int, slot: int, shelf: str | None) -> Phrase:
    """Where a person finds the slot: the bay's name (or camera) and the place on it."""
    return Phrase("advice.where", {"bay": bay, "place": place(row, slot, shelf)})


def product(name: str | None, sku: str | None) -> str | Phrase:
    """The product's name, else its SKU, else "the product" (translated)."""
    return name or sku or Phrase("advice.the_product")


def days(value: float) -> Phrase:
    """Days of supply; unlimited (nothing sells) has words of its own, as JSON has no
    infinity."""
    if math.isinf(value):
        return Phrase("advice.days_unlimited")
    return Phrase("advice.days", {"days": round(value, 2)})


def kind_name(kind: str) -> Phrase:
    return Phrase(f"advice.kind_{kind}")


def with_also(reason: Phrase, others: list[tuple[str, Phrase]]) -> Phrase:
    """The primary reason, then the other rules' findings ("also: kind: reason; ...")."""
    also: Phrase | None = None
    for kind, said in reversed(others):
        item = Phrase("advice.also_item", {"kind": kind_name(kind), "reason": said})
        also = item if also is None else Phrase("advice.also_more", {"first": item, "rest": also})
    if also is None:
        return reason
    return Phrase("advice.with_also", {"reason": reason, "also": also})
