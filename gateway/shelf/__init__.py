"""Shelf layouts and compliance."""
