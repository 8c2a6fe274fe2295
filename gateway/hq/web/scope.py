"""What one caller may see at the head office: a brand its own products (in every store
that carries them), a merchandiser its chain's or region's stores (or every store),
an admin everything.

The scope is read from the caller's role (`parse_role`), and applied to the rows of a
result before any figure is computed, so a figure can only be made of visible rows.
Filters a caller asks for (`chain=`, `region=`, `store=`) narrow the scope further; one
outside it is a 403 naming what the role may see, as `store_for` answers staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pandas as pd
from fastapi import Depends, HTTPException

from gateway.auth.access import CurrentPrincipal, Principal
from gateway.auth.roles import parse_role

HQ_READERS = ("admin", "merchandiser", "brand")
"""Who may read brand figures (a brand its own)."""
CHAIN_READERS = ("admin", "merchandiser")
"""Who may read store-wide figures (compliance of every brand's slots, devices)."""


def _same(a: object, b: str) -> bool:
    return isinstance(a, str) and a.casefold() == b.casefold()


@dataclass(frozen=True)
class Scope:
    """The caller's limits: a brand, a chain or a region (None: not limited by it)."""

    role: str
    brand: str | None = None
    chain: str | None = None
    region: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Scope:
        role = parse_role(principal.role)
        return cls(role.text, role.brand, role.chain, role.region)

    def check_brand(self, brand: str) -> None:
        """403 unless the caller may see this brand's figures."""
        if self.brand is not None and not _same(brand, self.brand):
            raise HTTPException(403, f"role {self.role} sees brand {self.brand} only")

    def brands(self, names: list[str]) -> list[str]:
        """The brand names of `names` the caller may see."""
        return [n for n in names if self.brand is None or _same(n, self.brand)]

    def narrowed(self, chain: str | None, region: str | None) -> Scope:
        """This scope further limited to a chain and/or region the caller asked for."""
        if chain is not None and self.chain is not None and not _same(chain, self.chain):
            raise HTTPException(403, f"role {self.role} sees chain {self.chain} only")
        if region is not None and self.region is not None and not _same(region, self.region):
            raise HTTPException(403, f"role {self.role} sees region {self.region} only")
        return Scope(self.role, self.brand, self.chain or chain, self.region or region)

    def limits_stores(self) -> bool:
        return self.chain is not None or self.region is not None

    def stores(self, profiles: pd.DataFrame) -> pd.DataFrame:
        """The profiles of the stores in this scope (every store when not limited)."""
        if profiles.empty or not self.limits_stores():
            return profiles
        keep = pd.Series(True, index=profiles.index)
        if self.chain is not None:
            keep &= profiles["chain"].fillna("").str.casefold() == self.chain.casefold()
        if self.region is not None:
            keep &= profiles["region"].fillna("").str.casefold() == self.region.casefold()
        return profiles[keep]

    def rows(self, frame: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
        """The rows of `frame` (with a `store` column) in this scope's stores."""
        if frame.empty or not self.limits_stores():
            return frame
        return frame[frame["store"].isin(self.stores(profiles)["store"])]

    def check_store(self, store: str, profiles: pd.DataFrame) -> None:
        """403 unless the store is in this scope."""
        if self.limits_stores() and store not in set(self.stores(profiles)["store"]):
            limit = f"chain {self.chain}" if self.chain is not None else f"region {self.region}"
            raise HTTPException(403, f"role {self.role} sees the stores of {limit} only")


def current_scope(principal: CurrentPrincipal) -> Scope:
    return Scope.of(principal)


CurrentScope = Annotated[Scope, Depends(current_scope)]
"""A route parameter of this type receives the caller's scope."""
