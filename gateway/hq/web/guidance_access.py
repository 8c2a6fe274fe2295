"""Who may read one store's guidance at the head office (its nearby prices and
assortment items), as a route dependency.

A store's guidance covers every brand on its shelves and what its neighbours charge
and sell, so it is for the people who run that store: an admin, a merchandiser (a
scoped one only for the stores of its chain or region) and the store's own staff. The
store gateway pulls its guidance with a `staff:<store>` API token made at the head
office, so a leaked store token reads that one store's guidance and nothing else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path

from edge.contract.ids import ID_PATTERN
from gateway.auth.access import CurrentPrincipal
from gateway.hq.web.backend import Backend
from gateway.hq.web.scope import Scope

STORE_GUIDANCE_READERS = ("admin", "merchandiser", "staff")

StoreId = Annotated[str, Path(pattern=ID_PATTERN, description="The store's id.")]


def store_in_reach(store: StoreId, principal: CurrentPrincipal, backend: Backend) -> str:
    """The store asked for, once the caller may see it (403 naming the limit if not)."""
    if principal.kind == "staff":
        if principal.store != store:
            raise HTTPException(403, f"role {principal.role} sees store {principal.store} only")
        return store
    Scope.of(principal).check_store(store, backend.result("profiles"))
    return store


StoreInReach = Annotated[str, Depends(store_in_reach)]
"""A route parameter of this type is the path's `{store}`, checked against the caller."""
