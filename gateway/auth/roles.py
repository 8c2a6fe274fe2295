"""User roles: `admin`, `installer`, `merchandiser`, `staff:<store>`, `brand:<brand>`.

A role is stored as its text; `parse_role` is the one place that reads it, so a typo in
`shelf-gateway users add --role` is refused with the forms that are allowed instead of
creating a user who can see nothing (or everything).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from edge.contract.ids import is_identifier

Kind = Literal["admin", "installer", "staff", "merchandiser", "brand"]
KINDS: tuple[Kind, ...] = get_args(Kind)
PLAIN_KINDS = ("admin", "installer", "merchandiser")
"""Kinds written without a `:<scope>`."""

ROLE_FORMS = "admin, installer, merchandiser, staff:<store id> or brand:<brand name>"
MAX_BRAND_LENGTH = 100


class RoleError(ValueError):
    """A role text that is not one of the allowed forms; the message says which are."""


@dataclass(frozen=True)
class Role:
    """A parsed role: its kind, and the store (staff) or brand (brand) it is limited to."""

    kind: Kind
    store: str | None = None
    brand: str | None = None

    @property
    def text(self) -> str:
        """The canonical role text, as stored."""
        if self.kind == "staff":
            return f"staff:{self.store}"
        if self.kind == "brand":
            return f"brand:{self.brand}"
        return self.kind


def parse_role(text: str) -> Role:
    """Read a role text strictly; RoleError names what is wrong and the allowed forms."""
    kind, sep, scope = text.strip().partition(":")
    if kind in PLAIN_KINDS:
        if sep:
            raise RoleError(f"role {text!r}: {kind} takes no ':<scope>' (expected {ROLE_FORMS})")
        return Role(kind=kind)  # type: ignore[arg-type]
    if kind == "staff":
        if not sep or not is_identifier(scope):
            raise RoleError(
                f"role {text!r}: staff needs a store id after ':' (letters, digits, '_', '.', "
                "'-', at most 64), e.g. staff:store-1"
            )
        return Role(kind="staff", store=scope)
    if kind == "brand":
        brand = scope.strip()
        if not sep or not brand:
            raise RoleError(f"role {text!r}: brand needs a brand name after ':', e.g. brand:Acme")
        if len(brand) > MAX_BRAND_LENGTH or not brand.isprintable():
            raise RoleError(
                f"role {text!r}: a brand name is printable text of at most "
                f"{MAX_BRAND_LENGTH} characters"
            )
        return Role(kind="brand", brand=brand)
    raise RoleError(f"role {text!r}: unknown role {kind!r}; expected {ROLE_FORMS}")
