"""Retail data: the store's POS sales, product catalogue and sales velocity.

- `pos`: sale lines from the till (REST, CSV, MQTT), validated and stored once.
- `catalogue`: products (GTIN, name, brand) and their import.
- `batch_import`: the shared rules for importing a file of lines, errors by line,
  read as a stream (memory stays flat however long the file).
- `sales_screen`: the sanity rules every sale line meets (future, before the store's
  first data, quantity far beyond the SKU's history).
- `sales_batches`: every sales import is a batch that can be listed and deleted.
- `velocity`: the empirical-Bayes units/hour estimate by weekday and hour (pure).
- `velocity_queries`: the sales it reads, and the per-SKU sales facts advice needs.
- `demand_forecast`: mean and variance of demand over a window from the weekday x hour
  rates (pure; the velocity profile's `forecast` uses it).
- `replenishment`: the order-up-to policy, how many units of a SKU to order (pure).
- `supplier_choice`: the cheapest way to buy those units across suppliers, and the
  single-cheapest-supplier baseline (pure).
- `supplier_needs`: a SKU's order-up-to plan per supplier and the need supplier choice
  buys (pure; the purchase suggestion and the buying simulation share it).
- `stock`: goods receipts and stock counts (imports) and stock on hand per GTIN.
- `shelf_stock`: the layouts' shelf capacity and the cameras' estimate of units on it.
- `suppliers`: supplier price lists and terms (import, reads for the supplier choice).
- `purchase_orders`: draft -> on order -> received; receipts fulfil open lines.
- `purchasing`: the store's purchase suggestion, wiring the above to the pure core.

May import `storage` and edge's contract and layout (GTINs); never `advice`, `web`
or any package above it (checked by `make lint`).
"""
