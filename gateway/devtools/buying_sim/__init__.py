"""`shelf-hq simulate`: what to buy, at what price and what to stock, measured on a
simulated fleet whose truth is planted.

- `world`: the seeded world: areas and their demand per category (planted "dog food"
  neighbourhoods), stores and formats, assortments with planted gaps, area prices,
  suppliers and their terms, shelf + backroom capacity.
- `inventory`: stock stepped hour by hour under a policy, on demand drawn once for all.
- `naive`: the baseline, a fixed reorder point and quantity from the cheapest supplier.
- `suggestions`: the store's purchase-suggestion core followed (`retail.replenishment`,
  `retail.supplier_choice`), fed by `velocity_adapter` (the store's velocity model on the
  simulated sales).
- `hq_feed`, `hq_answers`: the simulated stores' uplink into a real head-office dataset,
  and its analytics job's nearby prices and "add" items read back.
- `scoring`: every figure against the planted truth; `run`: the command and its report.

Part of `devtools`: may import anything in the gateway (it imports the purchase-suggestion
core, the velocity model and the head office's analytics, and measures that code, never a
copy of it); nothing imports it but the `shelf-hq` command line.
"""
