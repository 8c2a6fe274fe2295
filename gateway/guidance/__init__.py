"""What the head office tells a store, kept at the store: nearby price references and
assortment items (add, delist), and the store's decisions on them.

- `records`: the SQLite tables (migration 0010): the latest pull's references and items,
  each item's decision (accept, dismiss with a reason), each store's last pull.
- `followup`: did an accepted item work? Units sold since the decision, from the
  store's own POS sales (so it works offline).
- `pull`: `GuidancePuller`, the thread that fetches each store's guidance from the HQ
  API (`hq.guidance` in gateway.yaml: the HQ's URL and a `staff:<store>` API token) and
  stores it; a failed pull keeps the last one and records the error.

On the domain layer beside `reports` and `shelf`: may import `retail`, `storage`,
`config` and edge's contract; imported by `web` (the routes) and `app` (the puller).
"""
