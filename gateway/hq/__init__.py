"""The head office: what many store gateways send, stored once and analysed across stores.

- `tables`, `store`: each uplink message kind as rows of a Parquet dataset partitioned by
  day and store shard, written exactly once per message id.
- `analytics`: the cross-store figures, computed by Dask (a local cluster by default, any
  scheduler by config) and saved small for the pages to read.
- `store_sales`, `nearby`, `price_reference`, `assortment`: the store guidance the job
  also computes: each store x SKU's recent price and weekly rate, who a store's
  neighbours are (radius or region), the nearby price reference (published from five
  other stores up) and the add / delist candidates.
- `refresher`: the analytics job on a schedule; `server`: the web app (`web`) under
  uvicorn with that schedule, as `shelf-hq serve` and the demo run it.

An entry point beside `app`: may import the uplink contract and transports, and the
store gateway's shared layers (auth, web, storage, config); nothing imports it but the
CLI and devtools (checked by `make lint`).
"""
