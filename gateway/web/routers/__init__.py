"""The /api routes, one module per resource, each with its response models and a
module-level `router` that `create_app` mounts under /api.

Each route declares who may call it (`allow(...)` or `public()`) and takes the backend,
the caller and their brand view as dependencies; what it reads or changes lives in the
domain packages and storage, so a router only translates between HTTP and them. A router
may import those, the backend protocol and the shared parameter types; only the app
factory and the pages import the routers.
"""
