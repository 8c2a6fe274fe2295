"""Advice: what store staff should do next, from what the cameras see and the till sells.

- `model`: what an advice item is (candidate, active advice, verdict, key, level); its
  wire vocabulary (kinds, levels, evidence) and the MQTT payload are the contract's.
- `rules`: pure functions from one store's facts to advice, and the verification that
  closes an advice when the camera sees the fix.
- `phrases`: each action and reason as a catalogue key and raw figures, with its English
  rendered from the same template (pages translate the key).
- `ranking`: one advice per slot (the other findings as its evidence), urgency as money
  at stake, levels relative to the store.
- `facts`: those facts, read from the database for one store.
- `store`: the advice table: lifecycle, de-duplication by episode, queries, the payload.
- `worker`: the advice thread: when to evaluate, publishing on MQTT, InfluxDB counts.

May import `retail`, `shelf`, `storage`, `export`, `config` and edge's message contract;
never `web`, `cli` or anything above them (checked by `make lint`).
"""
