"""``make demo``: the contacts app on loopback, three people sign in, their /user pages printed.

Starts the development issuer and the contacts app (uvicorn) on 127.0.0.1, then
for an admin, a user and another user: asks for a magic link, follows it (the
session now holds a locally minted Stytch-style session JWT), opens ``/user``
and prints the decision table as the page shows it. Everything runs in this
process; nothing leaves the machine.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import List, Tuple

import httpx
import uvicorn
import warden
from warden.devissuer import DevIssuer


def _load_app_module():
    # the sibling app.py, by path: every example has an app.py, so never import it as "app"
    import importlib.util

    spec = importlib.util.spec_from_file_location("contacts_app", Path(__file__).resolve().parent / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_app = _load_app_module()
ACTIONS, create_app = _app.ACTIONS, _app.create_app

PEOPLE = [("alice@example.com", "admin"), ("bob@example.com", "user"), ("carol@example.com", "user")]


class TableParser(HTMLParser):
    """Reads the /user page: the principal id and the rows of <table id="decisions">."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: List[List[str]] = []
        self.principal_id = ""
        self._in_table = self._in_td = self._in_id = False

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id") == "decisions":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag == "td":
            self._in_td = True
            self.rows[-1].append("")
        elif tag == "code" and attributes.get("id") == "principal-id":
            self._in_id = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag == "td":
            self._in_td = False
        elif tag == "code":
            self._in_id = False

    def handle_data(self, data: str) -> None:
        if self._in_td:
            self.rows[-1][-1] += data
        elif self._in_id:
            self.principal_id += data


def sign_in_and_read_table(base: str, email: str, role: str) -> Tuple[str, List[List[str]]]:
    """The browser's path through the app; returns (principal id, table rows)."""
    with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as browser:
        sent = browser.post("/login_or_create_user", data={"email": email, "role": role})
        sent.raise_for_status()
        link = sent.text.split('id="magic-link" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        page = browser.get(link)
        page.raise_for_status()
        parser = TableParser()
        parser.feed(page.text)
        return parser.principal_id, [row for row in parser.rows if row]


def serve(app) -> Tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(400):  # bounded start-up wait
        if server.started:
            break
        time.sleep(0.025)
    else:
        raise RuntimeError("uvicorn did not start")
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def main() -> int:
    with DevIssuer() as issuer:
        server, thread, base = serve(create_app(dev_issuer=issuer))
        try:
            print(
                f"warden {warden.__version__}: the contacts app (Stytch + Cerbos demo) at {base}, "
                f"development issuer at {issuer.url}"
            )
            print("each person signs in with a magic link carrying a locally minted session JWT; /user shows:\n")
            header = f"{'who':<18} {'role':<6} {'resource':<9} {'owner_id':<14}" + "".join(f"{a:<8}" for a in ACTIONS)
            print(header)
            print("-" * len(header))
            for email, role in PEOPLE:
                principal_id, rows = sign_in_and_read_table(base, email, role)
                for resource, owner, *cells in rows:
                    shown_owner = "(the user)" if owner == principal_id else owner
                    print(
                        f"{email.split('@')[0]:<18} {role:<6} {resource:<9} {shown_owner:<14}"
                        + "".join(f"{c:<8}" for c in cells)
                    )
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print("""
abc123 belongs to whoever is signed in, def456 to someone else: users may update and
delete only their own contact, admins anything (examples/contacts/policies/contact.yaml).

The other examples (each has a README; tests in tests/examples/):
  examples/cognito/       Cognito + Cerbos FastAPI demo     python examples/cognito/app.py
  examples/apples/        tinyauth Flask apples service     python examples/apples/app.py
  examples/sales_orders/  STUPS OAuth2 resource server      python examples/sales_orders/app.py
  examples/hello/         Okta + OPA FastAPI hello          python examples/hello/app.py
  examples/contacts/      this app, interactively           python examples/contacts/app.py""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
