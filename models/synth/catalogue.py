"""The simulated stores' product catalogue: one fixed set of products shared by every
store, so a brand's products carry the same GTIN wherever they stand."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from edge.layout import with_check_digit
from models.synth.products import BRANDS, WORDS, ProductLook, random_look

CATALOGUE_SEED = 20261122
PRODUCTS_PER_BRAND = 8


@dataclass(frozen=True)
class Product:
    gtin: str
    name: str
    brand: str
    look: ProductLook
    price: float
    units_per_hour: float  # typical sales velocity in a small shop


@lru_cache(maxsize=1)
def catalogue() -> tuple[Product, ...]:
    """Deterministic: the same catalogue in every process."""
    rng = np.random.default_rng(CATALOGUE_SEED)
    products = []
    for b, brand in enumerate(BRANDS):
        for p in range(PRODUCTS_PER_BRAND):
            word = WORDS[int(rng.integers(len(WORDS)))]
            look = random_look(rng, text=brand[:6].upper() if rng.random() < 0.5 else word)
            fast = rng.random() < 0.3
            products.append(
                Product(
                    gtin=with_check_digit(f"200{b:03d}{p:06d}"),
                    name=f"{brand} {word.title()} {int(rng.integers(1, 9)) * 100}g",
                    brand=brand,
                    look=look,
                    price=round(float(rng.uniform(0.8, 9.5)), 2),
                    units_per_hour=float(rng.uniform(1.5, 5.0) if fast else rng.uniform(0.1, 1.0)),
                )
            )
    return tuple(products)
