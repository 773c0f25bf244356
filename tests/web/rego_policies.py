"""Rego policies the web tests decide with ``require_rule`` (Rego v1, as strings)."""

from __future__ import annotations

#: The app's default input ({method, api, jwt: {tokenValue}}): the token is decoded by the policy itself.
REPORTS = """
package web.reports

import rego.v1

default allow := false

claims := io.jwt.decode(input.jwt.tokenValue)[1]

allow if {
    input.method == "GET"
    input.api == "/reports"
    "user" in claims.roles
}

allow if {
    input.method == "DELETE"
    startswith(input.api, "/reports/")
    "admin" in claims.roles
}

# not a boolean: a policy bug, never read as an allow
verdict := "yes"
"""

#: A custom input: {"user": <principal id>, "owner": <path parameter>}.
OWNERS = """
package web.owners

import rego.v1

default allow := false

allow if input.user == input.owner
"""

POLICIES = {"reports.rego": REPORTS, "owners.rego": OWNERS}
