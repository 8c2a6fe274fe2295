"""The web layer: the HTTP API (FastAPI), the dashboard and calibration pages, and their
static files.

`create_app` builds the app over a backend (the running Gateway, or a bare database for
a read-only API) that routes receive through `Depends`, typed by the `ApiBackend`
protocol. One router module per resource; request parameter types shared by them.

It sits on top: it may import the domain packages (auth, shelf, retail, advice, reports,
live, mqtt's snapshot store), config and storage; it is imported by nothing but the
Gateway that serves it and the devtools. No domain package imports it.
"""
