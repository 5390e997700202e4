"""`bulletin-bot web` and `bulletin-bot user add|list|remove|passwd`: the console's commands."""

from __future__ import annotations

import argparse
import getpass
import sys
import time

from bot.console.accounts import ROLES, AccountError, Accounts
from bot.console.audit import AuditLog
from bot.console.store import ConsoleDB
from bot.settings import Settings
from index.types import BulletinError


def add_console_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register web and user."""
    web = subparsers.add_parser("web", help="serve the web console for staff and admins")
    web.add_argument("--host", help="address to listen on (default BULLETIN_WEB_LISTEN)")
    web.add_argument("--port", type=int, help="port (default BULLETIN_WEB_PORT)")
    user = subparsers.add_parser("user", help="console accounts: add, list, remove, passwd")
    sub = user.add_subparsers(dest="user_command", required=True)
    add = sub.add_parser("add", help="a new account (password from a prompt, or --password-stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    sub.add_parser("list", help="accounts, their roles and locks")
    remove = sub.add_parser("remove", help="delete an account and end its sessions")
    remove.add_argument("name")
    passwd = sub.add_parser("passwd", help="set a new password (ends the account's sessions and lock)")
    passwd.add_argument("name")
    for p in (add, passwd):
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise BulletinError("the two passwords differ; nothing changed")
    return first


def run_user_command(args: argparse.Namespace, settings: Settings) -> int:
    db = ConsoleDB(settings.data_dir)
    accounts, audit = Accounts(db), AuditLog(db)
    command = args.user_command
    try:
        if command == "list":
            rows = accounts.list()
            for user, locked_until in sorted(rows, key=lambda r: r[0].name):
                lock = (
                    f"  locked until {time.strftime('%H:%M', time.localtime(locked_until))}"
                    if locked_until > time.time()
                    else ""
                )
                print(f"{user.name}  {user.role}{lock}")
            if not rows:
                print("no accounts yet: bulletin-bot user add NAME --role admin")
            return 0
        if command == "add":
            accounts.add(args.name, args.role, _password(args.password_stdin))
            audit.record("(command line)", "user add", f"{args.name} ({args.role})")
            print(f"added {args.name} ({args.role})")
        elif command == "remove":
            accounts.remove(args.name)
            audit.record("(command line)", "user remove", args.name)
            print(f"removed {args.name}")
        else:
            accounts.set_password(args.name, _password(args.password_stdin))
            audit.record("(command line)", "user passwd", args.name)
            print(f"password of {args.name} changed; its sessions ended")
        return 0
    except AccountError as exc:
        raise BulletinError(str(exc)) from None
    finally:
        db.close()


def run_web_command(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from bot.console.app import create_app

    host, port = args.host or settings.web_listen, args.port or settings.web_port
    print(f"web console on http://{host}:{port}/ (data {settings.data_dir})", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", proxy_headers=False)
    return 0
