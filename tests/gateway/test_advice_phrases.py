"""Advice sentences in any language (#24 item 5): every action and reason the rules write
is also a phrase (catalogue key + raw figures) whose English, filled from the web UI's
English catalogue, is exactly the text; both catalogues know every key the rules can
say with the same placeholders; the phrases are stored, served by the API (null for
advice older than them) and published on MQTT."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from edge.contract.advice import AdviceKind, AdviceList
from edge.contract.messages import SlotStatus
from gateway.advice import store as advice_store
from gateway.advice.model import Candidate
from gateway.advice.phrases import TEMPLATES, Phrase, fill, placeholders
from gateway.advice.rules import (
    Demand,
    candidates,
    facings,
    fix_display,
    hidden_stockout,
    predicted_stockout,
    restock,
    tidy,
)
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.gateway.test_advice_rules import NOW, OTHER, SETTINGS, ago, bay, flat, slot
from tests.gateway.test_advice_store import EMPTY, STOCKED, STORE, at, db, see, service
from tests.support.auth_support import admin_client
from tests.support.paths import REPO

__all__ = ["db"]  # the database fixture, shared with the advice store tests

CATALOGUES = REPO / "gateway" / "web" / "static" / "i18n"


def catalogue(language: str) -> dict[str, str]:
    return json.loads((CATALOGUES / language / "advice.json").read_text(encoding="utf-8"))


def every_rule_firing() -> list[Candidate]:
    """At least one candidate for every branch of every rule's sentences."""
    empty = slot(status=SlotStatus.EMPTY, empty_since=ago(30), not_stocked_since=ago(50))
    low = slot(status=SlotStatus.LOW, status_since=ago(20), not_stocked_since=ago(20))
    silent = {"demand": Demand(flat(1.0)), "last_sale": ago(300), "not_empty_since": ago(600)}
    fast = slot(slot=0, facings=1, depth=4, demand=Demand(flat(0.5)))
    slow = slot(
        slot=1, sku=OTHER, name="Soap", facings=4, depth=5, demand=Demand(flat(0.0625, sku=OTHER))
    )
    unsold = replace(slow, name=None, demand=Demand(flat(0.0, sku=OTHER)))
    fired = [
        restock(empty, NOW, SETTINGS),
        restock(replace(empty, demand=None, name=None, sku=None), NOW, SETTINGS),
        restock(replace(empty, bay="aisle 3 bay B", shelf="top"), NOW, SETTINGS),
        restock(low, NOW, SETTINGS),
        restock(replace(low, demand=None), NOW, SETTINGS),
        predicted_stockout(
            slot(last_restock=ago(120), units_sold_since_restock=9.0), NOW, SETTINGS
        ),
        hidden_stockout(slot(**silent), NOW, SETTINGS),
        hidden_stockout(slot(**silent, status=SlotStatus.LOW), NOW, SETTINGS),
        hidden_stockout(slot(**silent, status=SlotStatus.MESSY), NOW, SETTINGS),
        hidden_stockout(
            slot(**silent, status=SlotStatus.WRONG_PRODUCT, seen_sku=OTHER), NOW, SETTINGS
        ),
        fix_display(slot(status=SlotStatus.WRONG_PRODUCT, status_since=ago(20)), NOW, SETTINGS),
        fix_display(slot(seen_sku=OTHER, status_since=ago(20)), NOW, SETTINGS),
        tidy(slot(status=SlotStatus.MESSY, status_since=ago(40)), NOW, SETTINGS),
        facings(bay(fast, slow), NOW, SETTINGS),
        facings(bay(fast, unsold), NOW, SETTINGS),
    ]
    # One advice per slot: the other rules' reasons ride along ("also: ...").
    behind = slot(
        status=SlotStatus.LOW,
        status_since=NOW - timedelta(hours=3),
        seen_sku=OTHER,
        not_stocked_since=NOW - timedelta(hours=3),
        not_empty_since=NOW - timedelta(hours=8),
        demand=Demand(flat(1.0)),
        last_sale=NOW - timedelta(hours=6),
    )
    messy = slot(slot=2, status=SlotStatus.MESSY, status_since=ago(40), **silent)
    ahead = slot(slot=3, last_restock=ago(120), units_sold_since_restock=9.0, last_sale=ago(300))
    merged = candidates([bay(behind, messy, ahead)], NOW, SETTINGS)
    assert sorted(c.kind for c in merged) == [AdviceKind.HIDDEN_STOCKOUT] * 2 + [AdviceKind.RESTOCK]
    assert all(c.evidence.also for c in merged)
    assert all(c is not None for c in fired)
    return [c for c in fired if c is not None] + merged


def keys_of(sentence: dict[str, Any]) -> Iterator[str]:
    yield sentence["key"]
    for value in sentence["args"].values():
        if isinstance(value, dict):
            yield from keys_of(value)


def test_the_english_catalogue_is_the_template_the_rules_render_from() -> None:
    assert catalogue("en") == TEMPLATES


def test_the_chinese_catalogue_has_every_key_with_the_same_placeholders() -> None:
    english, chinese = catalogue("en"), catalogue("zh-CN")
    assert set(chinese) == set(english)
    for key, text in english.items():
        assert placeholders(chinese[key]).keys() == placeholders(text).keys(), key
        assert all(k.startswith("advice.") for k in (key,))


def test_every_rule_says_its_text_through_the_catalogue() -> None:
    """Each rule's action and reason, stored as JSON, filled from the English catalogue
    is exactly its English text; together the rules use every key of the catalogue
    (the kind names: those that can stand behind another advice, and one per kind)."""
    english, chinese = catalogue("en"), catalogue("zh-CN")
    used: set[str] = set()
    for c in every_rule_firing():
        for text, phrase in ((c.action, c.action_phrase), (c.reason, c.reason_phrase)):
            assert phrase is not None, c
            sentence = json.loads(json.dumps(phrase.to_json()))  # as stored and served
            assert fill(english[sentence["key"]], sentence["args"], english) == text
            said = fill(chinese[sentence["key"]], sentence["args"], chinese)
            assert "{" not in said and "advice." not in said, said
            used.update(keys_of(sentence))
    kind_keys = {f"advice.kind_{k.value}" for k in AdviceKind}
    assert kind_keys <= set(TEMPLATES)
    assert set(TEMPLATES) - used <= {"advice.kind_restock", "advice.kind_facings"}
    assert "advice.also_more" in used and "advice.days_unlimited" in used


def test_figures_stay_numbers_and_places_nest() -> None:
    c = every_rule_firing()[0]  # the slot empty for 30 minutes
    assert c.action_phrase is not None and c.reason_phrase is not None
    action, reason = c.action_phrase.to_json(), c.reason_phrase.to_json()
    assert action["args"]["product"] == "Cola 330ml"
    assert action["args"]["where"] == {
        "key": "advice.where",
        "args": {
            "bay": "cam-1",
            "place": {"key": "advice.place_row", "args": {"row": 1, "slot": 2}},
        },
    }
    assert reason["args"] == {"minutes": 30.0, "daily": 144.0, "lost": 3.0}


def test_a_phrase_must_fill_its_template_exactly() -> None:
    with pytest.raises(KeyError, match=r"advice\.nope"):
        Phrase("advice.nope")
    with pytest.raises(ValueError, match="minutes"):
        Phrase("advice.messy_for", {"mins": 3})
    assert Phrase("advice.messy_for", {"minutes": 0.5}).english() == "messy for 30 s"
    assert Phrase("advice.messy_for", {"minutes": 150}).english() == "messy for 2.5 h"


def test_the_api_and_the_mqtt_list_carry_the_phrases(db: Database) -> None:
    engine = service(db)
    sent: list[bytes] = []
    engine.attach(lambda topic, payload: sent.append(payload) or True, lambda: 1)
    see(db, -60, STOCKED)
    see(db, -30, EMPTY)
    engine.evaluate(STORE, at(0))
    api = admin_client(create_app(db))
    [advice] = api.get("/api/advice", params={"store": STORE}).json()
    english = catalogue("en")
    for name in ("action", "reason"):
        sentence = advice[f"{name}_phrase"]
        assert fill(english[sentence["key"]], sentence["args"], english) == advice[name]
    assert advice["reason_phrase"]["args"]["minutes"] == 30

    engine.publish_pending(at(0))
    [published] = AdviceList.model_validate_json(sent[-1]).advice
    assert published.action_phrase is not None
    assert published.action_phrase.model_dump() == advice["action_phrase"]

    # Advice written before the phrases (or by a tool with text only) reads null.
    with db.transaction() as tx:
        tx.execute("UPDATE advice SET action_phrase = NULL, reason_phrase = NULL")
    old = api.get(f"/api/advice/{advice['id']}").json()
    assert old["action_phrase"] is None and old["reason_phrase"] is None
    assert old["action"] == advice["action"]
    assert advice_store.get_advice(db, advice["id"])["action_phrase"] is None  # type: ignore[index]
