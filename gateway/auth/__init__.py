"""Users, roles and access."""
