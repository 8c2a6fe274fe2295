"""What deleting a camera, a layout or a store removes, table by table.

An admin deletes a camera made by mistake (a typo'd id, a unit moved to another store)
or a whole store, and nothing of it may stay behind in pickers, Devices, reports or a
brand's audit. So a camera's delete takes every row keyed by that store and camera: its
availability, latest state, slot log, events, health, layout, settings, advice (its
history too: it would name slots that no longer exist) and its model roll-out rows. A store's delete does that for
each of its cameras and also removes the store's sale lines, stock, purchase orders and
head-office guidance. Kept: suppliers and their price lists (a supplier serves the
gateway, not one store), users (a staff
user of the store keeps its account until `shelf-gateway users remove`), sales import
batch records (their lines go, the record says how many were there), dead letters
(raw rejected messages, pruned on their own) and the catalogue (products are not
per store).

A layout's delete removes only the layout: the camera stays known (listed without a
layout, as before its calibration), its history stays, and its open advice is
dismissed (its slots are gone).

A camera still running sends again and is then listed as new: stop the node first.
`tests/gateway/test_removal.py` checks every table with a `store` column is named here.
"""

from __future__ import annotations

CAMERA_TABLES = (
    "camera_state",
    "slot_states",
    "events",
    "health_latest",
    "health_history",
    "layouts",
    "camera_settings",
    "advice",
    "rollout_cameras",
    "model_assignments",
    "cameras",
)
"""Tables whose rows (store, camera) a camera's delete removes."""

STORE_TABLES = (
    "sales",
    "goods_receipts",
    "stock_counts",
    "purchase_orders",
    "hq_price_refs",
    "hq_assortment",
    "hq_guidance_pulls",
)
"""Tables keyed by store only, whose rows a store's delete removes too: its sale lines,
stock counts, goods received and purchase orders (their lines go with them), and what
the head office told it (pulled again if the store comes back)."""

KEPT_TABLES = ("alert_problems",)
"""Tables with a `store` column whose rows outlive a delete: the push alerts' record of
problems (what was sent to whom stays on record, like the delivery log it keys)."""

LAYOUT_DELETED_REASON = "layout deleted"
"""The dismiss reason of open advice when its camera's layout is deleted."""
