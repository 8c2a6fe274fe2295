"""Live updates for open browser tabs (`GET /api/stream`).

- `updates`: the in-process `Broadcaster`: bounded, never blocking the publisher.
- `feed`: what becomes an update: changed slots from ingest, advice changes.

May import `retail`, `storage`, `config` and edge's contract and layout; never `web`
(which streams the updates), its siblings or anything above (checked by `make lint`).
"""
