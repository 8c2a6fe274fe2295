"""The shelf as planned and as seen by the cameras.

- `planogram`: a planogram (CSV or JSON: which product goes where) turned into a
  camera's layout.
- `compliance`: the display compliance score reproduced from the stored slot states.

May import `retail`, `storage`, `config` and edge's contract and layout; never its
siblings (`auth`, `export`, `live`, `reports`) or anything above them (checked by
`make lint`).
"""
