"""`shelf-gateway users` and `shelf-hq users` (add|list|token|revoke|password|remove):
manage who may sign in.

Works on the users' database directly (the server may be running: SQLite's WAL lets
both write): the store gateway's, found through its config file, or the head office's
users file (`shelf-hq serve --users`). A fresh one has no users; the first one is made
with `... users add admin --role admin`. Exit code 0 on success, 1 when the user, role
or password is refused (the message says why), 2 for a config error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.auth.roles import ROLE_FORMS
from gateway.cli.command import Command, add_config_argument

if TYPE_CHECKING:  # the handlers import lazily, so `--help` stays fast
    from gateway.auth.users import Users


def _users_db_argument(parser: argparse.ArgumentParser) -> None:
    """`--users`: the head office keeps its users in a file of their own."""
    parser.add_argument(
        "--users",
        dest="users_db",
        type=Path,
        required=True,
        metavar="USERS_DB",
        help="the head office's users file (as given to shelf-hq serve --users)",
    )


def _add_arguments(
    parser: argparse.ArgumentParser,
    where: Callable[[argparse.ArgumentParser], None] = add_config_argument,
) -> None:
    actions = parser.add_subparsers(dest="users_action", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="create a user and print a new API token for it",
        description="Create a user with a role and print a new API token (shown once). "
        "Without --password: asks for one at a terminal (empty: generate), otherwise "
        "generates one and prints it.",
    )
    add.add_argument("name", help="user name (letters, digits, '_', '.', '@', '-')")
    add.add_argument("--role", required=True, help=f"one of {ROLE_FORMS}")
    add.add_argument("--password", help="the password (8+ characters; visible in ps/history)")
    add.add_argument(
        "--json",
        action="store_true",
        help="print the user as JSON: name, role, created_at, token, password (when "
        "generated, else null) and password_generated; for provisioning scripts",
    )

    actions.add_parser("list", help="list users with their roles and token prefixes")

    token = actions.add_parser("token", help="make another API token for a user (printed once)")
    token.add_argument("name")

    revoke = actions.add_parser("revoke", help="revoke an API token by its prefix (sst_...)")
    revoke.add_argument("prefix")

    password = actions.add_parser(
        "password", help="set a user's password (ends the user's browser sessions)"
    )
    password.add_argument("name")
    password.add_argument("--password", help="the new password (default: ask or generate)")

    remove = actions.add_parser("remove", help="delete a user, its tokens and sessions")
    remove.add_argument("name")

    for sub in actions.choices.values():
        where(sub)


@contextmanager
def _users(args: argparse.Namespace) -> Iterator[Users]:
    from gateway.auth.users import Users
    from gateway.config.settings import load_settings
    from gateway.storage.connection import Database

    if args.users_db is not None:
        db = Database(args.users_db)
    else:
        db = Database.in_dir(load_settings(args.config).data_dir)
    db.open()
    try:
        yield Users(db)
    finally:
        db.close()


def _password(given: str | None) -> tuple[str, bool]:
    """(password, generated): the given one, one typed at a terminal, or a new one."""
    from gateway.auth.users import generate_password

    if given is not None:
        return given, False
    if sys.stdin.isatty():
        typed = getpass.getpass("Password (empty: generate one): ")
        if typed:
            if getpass.getpass("Again: ") != typed:
                raise _Refused("the two passwords differ")
            return typed, False
    return generate_password(), True


class _Refused(Exception):
    pass


def _add(args: argparse.Namespace) -> None:
    if args.json and args.password is None:  # a script reads the JSON: never prompt
        from gateway.auth.users import generate_password

        password, generated = generate_password(), True
    else:
        password, generated = _password(args.password)
    with _users(args) as users:
        user = users.add(args.name, args.role, password)
        token = users.new_token(user.name)
    if args.json:
        print(
            json.dumps(
                {
                    "name": user.name,
                    "role": user.role,
                    "created_at": user.created_at.isoformat(),
                    "token": token,
                    "password": password if generated else None,
                    "password_generated": generated,
                },
                indent=2,
            )
        )
        return
    print(f"created user {user.name} ({user.role})")
    if generated:
        print(f"password  {password}")
    print(f"API token {token}")
    print("  (shown once: send it as 'Authorization: Bearer <token>')")


def _list(args: argparse.Namespace) -> None:
    with _users(args) as users:
        rows = [(u, users.tokens(u.name)) for u in users.all()]
    if not rows:
        print(f"no users yet: {args.program} users add admin --role admin")
        return
    width = max(len(u.name) for u, _ in rows)
    for user, tokens in rows:
        prefixes = ", ".join(t.prefix for t in tokens) or "no tokens"
        created = user.created_at.strftime("%Y-%m-%d")
        print(f"{user.name:<{width}}  {user.role:<24} since {created}  {prefixes}")


def _token(args: argparse.Namespace) -> None:
    with _users(args) as users:
        token = users.new_token(args.name)
    print(f"API token {token}")


def _revoke(args: argparse.Namespace) -> None:
    with _users(args) as users:
        users.revoke_token(args.prefix)
    print(f"revoked {args.prefix}")


def _set_password(args: argparse.Namespace) -> None:
    password, generated = _password(args.password)
    with _users(args) as users:
        users.set_password(args.name, password)
    print(f"password of {args.name} changed; its browser sessions ended")
    if generated:
        print(f"password  {password}")


def _remove(args: argparse.Namespace) -> None:
    with _users(args) as users:
        users.remove(args.name)
    print(f"removed {args.name} with its tokens and sessions")


ACTIONS = {
    "add": _add,
    "list": _list,
    "token": _token,
    "revoke": _revoke,
    "password": _set_password,
    "remove": _remove,
}


def _handle(args: argparse.Namespace) -> int:
    from gateway.auth.users import UserError

    try:
        ACTIONS[args.users_action](args)
    except (UserError, _Refused) as error:
        print(f"{args.program} users: {error}", file=sys.stderr)
        return 1
    return 0


def command() -> Command:
    """The store gateway's: users in the gateway's database (`--config`)."""
    return _command("shelf-gateway", add_config_argument, users_db=None)


def hq_command() -> Command:
    """The head office's: users in its own file (`--users`)."""
    return _command("shelf-hq", _users_db_argument)


def _command(
    program: str, where: Callable[[argparse.ArgumentParser], None], **defaults: object
) -> Command:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        _add_arguments(parser, where)
        parser.set_defaults(program=program, **defaults)

    return Command(
        name="users",
        help="users and API tokens: add, list, token, revoke, password, remove",
        description=f"Manage who may use the {program} API and web pages. Roles: "
        f"{ROLE_FORMS}. See README: Users and access.",
        add_arguments=add_arguments,
        handler=_handle,
    )
