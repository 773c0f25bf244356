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

import inspect
from typing import Any, Callable, Dict, Optional, Tuple

from warden._core import Rego, RegoError, RegoEvalError, RegoLoadError

__all__ = ["Rego", "RegoError", "RegoEvalError", "RegoLoadError", "http_input"]


def http_input(method: str, path: str, token: Optional[str] = None, **extra: Any) -> Dict[str, Any]:
    """The input the Okta + OPA demo app posts to OPA: ``{"method", "api", "jwt": {"tokenValue"}}``."""
    doc: Dict[str, Any] = {"method": method, "api": path}
    if token is not None:
        doc["jwt"] = {"tokenValue": token}
    doc.update(extra)
    return doc


#: What the web integrations pass an input builder (``require_rule(..., input=build)``),
#: by the names it declares.
INPUT_BUILDER_ARGUMENTS = ("request", "token", "claims", "principal")


def input_builder_arguments(build: Callable[..., Any]) -> Tuple[str, ...]:
    """The names an input builder asks for; anything else is refused when the route is declared."""
    try:
        params = inspect.signature(build).parameters.values()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"input: cannot read the builder's signature ({exc})") from exc
    allowed = ", ".join(INPUT_BUILDER_ARGUMENTS)
    names = []
    for param in params:
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"input: name the arguments wanted among {allowed} (no *args/**kwargs)")
        if param.name not in INPUT_BUILDER_ARGUMENTS:
            if param.default is not inspect.Parameter.empty:
                continue  # the builder's own default
            raise TypeError(f"input: unknown argument {param.name!r}; the builder may take {allowed}")
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise TypeError(f"input: argument {param.name!r} must be passable by name")
        names.append(param.name)
    return tuple(names)


def check_rule(rego: Rego, rule: Any) -> None:
    """Refuse, when a route is declared, a rule outside every loaded package (a typo would deny everything)."""
    if not isinstance(rule, str) or not rule.startswith("data."):
        raise ValueError(f"rule: expected a Rego reference like 'data.<package>.<rule>', got {rule!r}")
    packages = rego.packages
    if not any(rule == p or rule.startswith(p + ".") for p in packages):
        raise ValueError(f"rule: {rule!r} is in no loaded package (loaded: {', '.join(packages) or 'none'})")
