"""The head office's API routers, one module per resource, each with its response models:
`brands` (a brand's figures per store, week and region, its products), `exports` (the
same rows as CSV or Parquet), `chain` (compliance and availability per store over
time, worst stores and SKUs), `stores` (the stores a caller may see), `devices`
(cameras and uplinks that have gone quiet) and `system` (health).

They import what `gateway.hq.web` may: its backend, scope, selection and figures, and
the store gateway's `auth`; nothing imports them but `gateway.hq.web.app`."""
