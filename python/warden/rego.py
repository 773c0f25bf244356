"""Rego policies decided in-process: OPA's language without an OPA server.

``Rego`` loads ``.rego`` files (Rego v1, or v0 as in ``allow { ... }`` /
``default allow = false``, chosen per file) and JSON/YAML data documents,
compiles them once, and evaluates queries in microseconds on regorus
(Microsoft's Rust Rego interpreter). OPA's ``io.jwt.*`` built-ins are backed by
warden's JWT verifier. Built-ins OPA has and warden does not (``http.send``,
``crypto.x509.*``, ...) fail the load with the file and line instead of making
decisions silently undefined::

    from warden.rego import Rego

    rego = Rego.from_directory("policies", data={"admins": ["alice"]})
    rego.allowed("data.demoapi.authz.allow", {"method": "GET", "api": "/sayhello", "jwt": {"tokenValue": token}})
    rego.eval("data.demoapi.authz", input)                  # any document or expression; None if undefined
    rego.eval_data_api("demoapi/authz/allow", {"input": input})   # {"result": True}, as POST /v1/data/...
    rego.eval_batch("data.demoapi.authz.allow", inputs)     # GIL released
    rego.reload()                                          # last good set keeps serving on failure
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from warden._core import Rego, RegoError, RegoEvalError, RegoLoadError

__all__ = ["Rego", "RegoError", "RegoEvalError", "RegoLoadError", "http_input"]


def http_input(method: str, path: str, token: Optional[str] = None, **extra: Any) -> Dict[str, Any]:
    """The input the Okta + OPA demo app posts to OPA: ``{"method", "api", "jwt": {"tokenValue"}}``."""
    doc: Dict[str, Any] = {"method": method, "api": path}
    if token is not None:
        doc["jwt"] = {"tokenValue": token}
    doc.update(extra)
    return doc
