"""The shelf as planned and as seen by the cameras.

- `planogram`: a planogram (CSV or JSON: which product goes where) turned into a
  camera's layout.
- `compliance`: the display compliance score reproduced from the stored slot states.
- `layout_guard`: what a new layout may not do (name a camera never seen, re-brand a
  catalogued GTIN).

May import `retail`, `storage`, `config` and edge's contract and layout; never its
siblings (`auth`, `export`, `live`, `reports`) or anything above them (checked by
`make lint`).
"""
