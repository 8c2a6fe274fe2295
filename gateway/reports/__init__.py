"""Report queries behind the dashboards: one module per report, each taking an explicit
`ReportScope` (store, brand, category, time range) so access control can narrow it.

- `slot_timeline`: the slot change log as time spans (the base of every report);
- `compliance_history`: display compliance over time per store, camera (bay) and row;
- `shelf_violations`: the worst slots and the violations with their evidence;
- `brand_audit`: one brand's availability, facings, share of shelf, placement, sales;
- `devices`: every camera node's health, versions and offline alert.

May import `retail`, `storage`, `config` and edge's contract and layout; never `web`
(whose routers call these), its siblings or anything above (checked by `make lint`).
"""
