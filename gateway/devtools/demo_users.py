"""The demo's users: one per role, with random passwords, for trying each view.

`shelf-gateway demo` makes an admin, an installer, a merchandiser, staff of each demo
store and two brands that stand on the simulated shelves (the two with the most slots),
prints their logins in its banner and, with `--users-file PATH`, writes them as JSON:
`[{"name", "role", "password", "token"}, ...]` (file mode 0600: it holds secrets).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from edge.layout import Layout
from gateway.auth.users import Users, generate_password

DEMO_BRANDS = 2


@dataclass(frozen=True)
class DemoLogin:
    name: str
    role: str
    password: str
    token: str


def shelf_brands(layouts: Iterable[Layout], count: int = DEMO_BRANDS) -> list[str]:
    """The `count` brands with the most slots on these shelves (ties by name)."""
    slots = Counter(
        slot.brand for layout in layouts for _row, slot, _box in layout.slot_boxes() if slot.brand
    )
    return [brand for brand, _n in sorted(slots.items(), key=lambda b: (-b[1], b[0]))[:count]]


def _user_name(prefix: str, scope: str) -> str:
    return f"{prefix}-{re.sub(r'[^a-z0-9]+', '-', scope.lower()).strip('-')}"


def demo_roles(stores: Sequence[str], brands: Sequence[str]) -> list[tuple[str, str]]:
    """(user name, role) of every demo user."""
    roles = [("admin", "admin"), ("installer", "installer"), ("merchandiser", "merchandiser")]
    roles += [(_user_name("staff", store), f"staff:{store}") for store in stores]
    roles += [(_user_name("brand", brand), f"brand:{brand}") for brand in brands]
    return roles


def create_demo_users(
    users: Users, stores: Sequence[str], brands: Sequence[str]
) -> list[DemoLogin]:
    """Create the demo users with fresh random passwords and one API token each (a
    kept `--data-dir` already has them: they get a new password)."""
    logins = []
    for name, role in demo_roles(stores, brands):
        password = generate_password()
        if users.get(name) is None:
            users.add(name, role, password)
        else:
            users.set_password(name, password)
        logins.append(DemoLogin(name, role, password, users.new_token(name)))
    return logins


def banner_lines(logins: Sequence[DemoLogin]) -> list[str]:
    width = max(len(login.name) for login in logins)
    return [f"      {lg.name:<{width}}  {lg.password}   {lg.role}" for lg in logins]


def write_users_file(path: Path, logins: Sequence[DemoLogin]) -> None:
    """Write the logins as JSON, readable by the owner only, replacing the file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump([asdict(login) for login in logins], file, indent=2)
        file.write("\n")
    os.replace(partial, path)
