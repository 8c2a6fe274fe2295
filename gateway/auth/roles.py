"""User roles: `admin`, `installer`, `merchandiser` (optionally `merchandiser:chain:<chain>`
or `merchandiser:region:<region>`), `staff:<store>` (or `staff:<store>:manager`, the store's
manager or owner: staff who may also edit and accept purchase orders), `brand:<brand>`.

A role is stored as its text; `parse_role` is the one place that reads it, so a typo in
`shelf-gateway users add --role` is refused with the forms that are allowed instead of
creating a user who can see nothing (or everything).

A merchandiser's chain or region scope matters at the head office, which knows each
store's chain and region from its profile; a store gateway serves one store, so there
every merchandiser reads the store as a plain `merchandiser` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from edge.contract.ids import is_identifier

Kind = Literal["admin", "installer", "staff", "merchandiser", "brand"]
KINDS: tuple[Kind, ...] = get_args(Kind)
PLAIN_KINDS = ("admin", "installer")
"""Kinds written without a `:<scope>` (`merchandiser` may take one)."""

ROLE_FORMS = (
    "admin, installer, merchandiser, merchandiser:chain:<chain name>, "
    "merchandiser:region:<region code>, staff:<store id>, staff:<store id>:manager or "
    "brand:<brand name>"
)
MAX_NAME_LENGTH = 100
MERCHANDISER_SCOPES = ("chain", "region")


class RoleError(ValueError):
    """A role text that is not one of the allowed forms; the message says which are."""


@dataclass(frozen=True)
class Role:
    """A parsed role: its kind, and the store (staff), brand (brand), or chain or region
    (a scoped merchandiser) it is limited to."""

    kind: Kind
    store: str | None = None
    brand: str | None = None
    chain: str | None = None
    region: str | None = None
    manager: bool = False
    """Staff only: the store's manager or owner (places purchase orders)."""

    @property
    def text(self) -> str:
        """The canonical role text, as stored."""
        if self.kind == "staff":
            return f"staff:{self.store}:manager" if self.manager else f"staff:{self.store}"
        if self.kind == "brand":
            return f"brand:{self.brand}"
        if self.kind == "merchandiser" and self.chain is not None:
            return f"merchandiser:chain:{self.chain}"
        if self.kind == "merchandiser" and self.region is not None:
            return f"merchandiser:region:{self.region}"
        return self.kind


def _name(text: str, what: str, value: str) -> str:
    """A brand or chain name: printable text of at most MAX_NAME_LENGTH characters."""
    if len(value) > MAX_NAME_LENGTH or not value.isprintable():
        raise RoleError(
            f"role {text!r}: a {what} name is printable text of at most "
            f"{MAX_NAME_LENGTH} characters"
        )
    return value


def _merchandiser(text: str, scope: str) -> Role:
    what, sep, value = scope.partition(":")
    value = value.strip()
    if what == "chain" and sep and value:
        return Role(kind="merchandiser", chain=_name(text, "chain", value))
    if what == "region" and sep and is_identifier(value):
        return Role(kind="merchandiser", region=value)
    if what == "region" and sep:
        raise RoleError(
            f"role {text!r}: a region code is letters, digits, '_', '.', '-' (at most 64), "
            "e.g. merchandiser:region:north"
        )
    raise RoleError(
        f"role {text!r}: merchandiser takes no scope, or chain:<chain name> or "
        "region:<region code>, e.g. merchandiser:chain:Fresh Corner (expected "
        f"{ROLE_FORMS})"
    )


def parse_role(text: str) -> Role:
    """Read a role text strictly; RoleError names what is wrong and the allowed forms."""
    kind, sep, scope = text.strip().partition(":")
    if kind in PLAIN_KINDS:
        if sep:
            raise RoleError(f"role {text!r}: {kind} takes no ':<scope>' (expected {ROLE_FORMS})")
        return Role(kind=kind)  # type: ignore[arg-type]
    if kind == "merchandiser":
        return _merchandiser(text, scope.strip()) if sep else Role(kind="merchandiser")
    if kind == "staff":
        store, colon, title = scope.partition(":")
        if not sep or not is_identifier(store):
            raise RoleError(
                f"role {text!r}: staff needs a store id after ':' (letters, digits, '_', '.', "
                "'-', at most 64), e.g. staff:store-1"
            )
        if colon and title != "manager":
            raise RoleError(
                f"role {text!r}: after the store id staff takes only ':manager' (the store's "
                "manager or owner), e.g. staff:store-1:manager"
            )
        return Role(kind="staff", store=store, manager=bool(colon))
    if kind == "brand":
        brand = scope.strip()
        if not sep or not brand:
            raise RoleError(f"role {text!r}: brand needs a brand name after ':', e.g. brand:Acme")
        return Role(kind="brand", brand=_name(text, "brand", brand))
    raise RoleError(f"role {text!r}: unknown role {kind!r}; expected {ROLE_FORMS}")
