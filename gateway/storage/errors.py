"""The one error storage raises for a file it cannot use, so callers (the CLI, the
gateway's start) can report it without knowing SQLite."""


class DatabaseError(RuntimeError):
    """The database cannot be opened or has a schema newer than this build."""
