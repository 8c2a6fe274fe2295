"""Retail data: POS, catalogue, velocity."""
