"""The development issuer: keys made on start, a JWKS on 127.0.0.1, tokens for the demo's users.

It stands in for the identity provider (``CONTACTS_ISSUER`` unset): the sign-in page mints a token
for the chosen user instead of sending the browser to a provider.
"""

import os

from warden.devissuer import DevIssuer

#: the demo's users and their roles (the contact policy knows "admin" and "user")
USERS = {"alice": {"roles": ["admin"]}, "bob": {"roles": ["user"]}, "carol": {"roles": ["user"]}}

issuer = DevIssuer(audience=os.environ.get("CONTACTS_AUDIENCE", "api://contacts"), users=USERS).start()
