"""The head office's web app and API: brand and chain views over the precomputed results.

- `app`: `create_hq_app(root, users_db)`, the FastAPI app (sign-in, roles and access
  rules reused from the store gateway's `auth` and `web`).
- `backend`: the `HqBackend` protocol routes receive through `Depends`, and
  `ResultsBackend`, which reads `<root>/results/` (never the slot log) and reloads a
  result when a refresh replaced it.
- `scope`: what a caller may see (a brand its own products, a merchandiser its chain
  or region); `selection`: scope, filters and day range applied to a result's rows.
- `guidance_access`: who may read one store's guidance (admin, a merchandiser in scope,
  the store's own staff token).
- `figures`: the figures the pages show, from the saved results (pandas).
- `params`: shared query parameters; `routers/`: one module per resource with its
  response models; `pages`: `/brand`, `/chain`, `/login`; `static/`: their files.

Part of `gateway.hq` (an entry point): may import `gateway.hq`'s analytics, and the
store gateway's `web`, `auth`, `storage` and `config`; nothing but the HQ's entry
points imports it.
"""

from gateway.hq.web.app import create_hq_app

__all__ = ["create_hq_app"]
