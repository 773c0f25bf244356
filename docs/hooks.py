"""mkdocs hooks for the site (mkdocs.yml `hooks:`; not a page)."""

import re

# The docstrings use Sphinx roles (:class:`Engine`) for editors and help(); on the site the role
# name is noise once the name is shown as code.
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):(?=<code>)")


def on_page_content(html: str, **kwargs) -> str:
    return _ROLE.sub("", html)
