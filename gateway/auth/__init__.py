"""Who may see and do what.

- `users`: users, Argon2id passwords, hashed API tokens and browser sessions.
- `roles`: the role texts (`admin`, `installer`, `merchandiser`, `staff:<store>`,
  `brand:<brand>`) and the one parser for them.
- `access`: the caller (cookie or bearer token) and the per-route `allow(...)` check.
- `scoping`: staff see their own store, a brand its own products.
- `throttle`: the per-name slow-down of wrong passwords.

May import `retail`, `storage`, `config` and edge's contract; never `web` (routes import
`access`, not the other way round), its siblings or anything above (checked by
`make lint`).
"""
