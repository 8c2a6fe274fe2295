"""Push alerts: urgent (high) advice and cameras offline too long, sent to each user's
own channels, at most once per problem, held through the user's quiet hours.

- `records`: channels, quiet hours, problems and the delivery log (migration 0011); a
  problem key is recorded once, so the same advice seen again alerts nobody twice.
- `problems`: what is worth an alert (high advice, a camera outage), its words, and
  which users it concerns (staff: their own store).
- `quiet_hours`: a daily local-time window, across midnight too.
- `signing`: the webhook's HMAC-SHA256 signature over `<timestamp>.<body>`.
- `sender`: one delivery over a signed webhook (standard library) or an Apprise URL
  (the optional `alerts` extra, imported lazily).
- `service`: the alert thread: finds problems, sends, holds, drops and retries with
  backoff, so a dead receiver never holds up ingest or advice.

Between `web` (its `/api/alerts` routes) and the domain: it reads `advice`, `auth`
(roles) and `storage`; `app` wires the thread to the advice engine.
"""
