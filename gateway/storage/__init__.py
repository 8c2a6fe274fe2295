"""SQLite storage of the store gateway: the schema (numbered SQL files in `migrations/`,
applied and recorded by `migrate`), the database file and its connections
(`connection`), the one writer (`transactions`, with what a delete of a camera, layout
or store removes in `removal`), and the read queries, one module per concept
(`cameras`, `events`, `layouts`, `slot_log`, `health`, `dead_letters`).

Modules that own their tables (POS sales, the catalogue, advice, users) keep their SQL
beside their model and use `Database.read()` and `Transaction.execute()`.

Every other gateway package may build on storage, so storage builds on almost nothing:
it may import the standard library and the camera's contract and layout
(`edge.contract`, `edge.layout`), nothing else of the gateway.
"""
