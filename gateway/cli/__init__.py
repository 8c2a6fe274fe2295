"""The shelf-gateway command."""
