# Type stubs for the Rust extension module warden._core.
import datetime
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union, final

from typing_extensions import Self

from warden.models import CheckResourcesResponse

_Now = Union[str, datetime.datetime, None]
_KeySource = Union[str, "os.PathLike[str]", Mapping[str, Any]]

class PolicyError(Exception):
    """Policies failed to load.

    ``errors`` lists every problem of the load as dicts with ``file``, ``line``, ``column``,
    ``kind`` (a stable slug, e.g. ``"unknown derived role"``) and ``message``; ``str()`` shows
    them as ``file:line:col: message``.
    """

    errors: List[Dict[str, Any]]

class InternalError(Exception):
    """A bug in warden: a Rust panic stopped at the Python boundary (logged on the ``warden`` logger)."""

#: How deep a Python value may nest (dicts and lists inside dicts and lists), counted from the
#: argument it is passed in; deeper values, and values that contain themselves, raise ``ValueError``.
MAX_DEPTH: int

def _panic_for_test(message: str) -> None:
    """Panics inside the panic guard (for the test suite): raises :class:`InternalError`."""

def _flush_audit_logs(timeout: float) -> None:
    """Flush every live decision log, each for at most ``timeout`` seconds (at interpreter exit)."""

@final
class Engine:
    """Cerbos-format policies compiled once and decided in-process, with Cerbos's semantics."""

    @staticmethod
    def from_directory(
        path: Union[str, "os.PathLike[str]"],
        *,
        globals: Optional[Mapping[str, Any]] = None,
        lenient_scope_search: bool = False,
        schema_enforcement: str = "none",
        watch: bool = False,
        jwt_keysets: Optional[Mapping[str, _KeySource]] = None,
        strict_evaluation: bool = False,
        default_policy_version: str = "default",
        default_scope: str = "",
        audit: Optional[Any] = None,
        policy_version: Optional[str] = None,
        max_resources_per_request: Optional[int] = ...,
        max_actions_per_resource: Optional[int] = ...,
    ) -> "Engine":
        """Load every policy under ``path`` the way Cerbos's disk store does (YAML and JSON,
        recursively; skipping ``*_test.*``, hidden files, ``testdata/`` and disabled policies;
        JSON Schemas from ``_schemas/``). ``schema_enforcement`` is ``"none"``, ``"warn"`` or
        ``"reject"``. ``watch=True`` reloads when files change (failures are logged on the
        ``warden`` logger and the last good set keeps serving). ``jwt_keysets`` names key sets
        (a JWKS dict, a JWKS URL, a JWK/JWKS/PEM file path or text) that verify aux-data tokens
        in :meth:`check_resources_json`. ``strict_evaluation=True`` is Cerbos's strict mode: a
        condition that fails to evaluate denies the action instead of counting as false.
        ``default_policy_version``/``default_scope`` apply to requests that leave them empty.
        ``audit`` logs every decision (see :mod:`warden.audit`): a callable, ``"logging"``, a
        ``LoggingSink``, a ``FileSink`` or ``AuditOptions``.
        ``policy_version`` labels the loaded set (see :attr:`policy_version`).
        ``max_resources_per_request``/``max_actions_per_resource`` are Cerbos's request limits
        (50 each unless given; ``None``: no limit) for :meth:`check_resources_json`,
        :meth:`plan_resources_json` and ``Client.check_resources``; given explicitly, they also
        limit :meth:`check`, :meth:`decision_table` and :meth:`plan_resources`. A request over a
        limit raises ``ValueError`` naming the field, the count and the limit.
        Raises :class:`PolicyError` listing every problem."""
    @staticmethod
    def from_policies(
        items: Sequence[Union[str, Mapping[str, Any]]],
        *,
        globals: Optional[Mapping[str, Any]] = None,
        lenient_scope_search: bool = False,
        schema_enforcement: str = "none",
        jwt_keysets: Optional[Mapping[str, _KeySource]] = None,
        strict_evaluation: bool = False,
        default_policy_version: str = "default",
        default_scope: str = "",
        audit: Optional[Any] = None,
        policy_version: Optional[str] = None,
        max_resources_per_request: Optional[int] = ...,
        max_actions_per_resource: Optional[int] = ...,
    ) -> "Engine":
        """Load policies given as YAML/JSON texts or dicts (errors name them ``policies[i]``);
        the keywords are those of :meth:`from_directory`."""
    def check(
        self, inputs: List[Mapping[str, Any]], *, now: _Now = None, report_used_now: bool = False
    ) -> List[Dict[str, Any]]:
        """Decide Cerbos engine ``CheckInput`` dicts; return ``CheckOutput`` dicts (camelCase,
        empty fields omitted): ``requestId``, ``resourceId``, ``actions`` (``{action: {effect,
        policy, scope}}``), ``effectiveDerivedRoles``, ``validationErrors``, ``outputs``,
        ``evaluationErrors``. ``now`` fixes ``now()`` for the batch. ``report_used_now=True``
        adds ``usedNow`` (warden's own field): whether a condition, variable or output evaluated
        for that decision read ``now()`` or ``timeSince()``. Raises ``ValueError`` or
        ``TypeError`` naming the offending field (``inputs[0].principal.roles``)."""
    def is_allowed(
        self,
        principal: Any,
        resource: Any,
        *,
        action: str,
        aux_data: Optional[Mapping[str, Any]] = None,
        now: _Now = None,
    ) -> bool:
        """Whether ``principal`` may do ``action`` on ``resource`` (dicts or Principal/Resource
        objects; ``aux_data`` is ``{"jwt": {claims}}``)."""
    def decision_table(
        self,
        principal: Any,
        resources: Iterable[Any],
        actions: Sequence[str],
        *,
        aux_data: Optional[Mapping[str, Any]] = None,
        now: _Now = None,
    ) -> List[List[bool]]:
        """Whether ``principal`` may do each of ``actions`` on each of ``resources``: one row of
        booleans per resource, in the order of ``actions`` (Cerbos's CheckResources shape: one
        principal, many resources). The principal is read once and no ``CheckOutput`` dicts are
        built; the GIL is released while deciding."""
    def explain(self, input: Mapping[str, Any], *, now: _Now = None) -> Dict[str, Any]:
        """Decide one ``CheckInput`` and explain it: ``{"output": CheckOutput, "actions": [...],
        "derivedRoles": [...]}``; each action lists the rules reached, in order, with the value
        of every condition evaluated, and a ``reason``."""
    def check_resources_json(self, request: Mapping[str, Any], *, now: _Now = None) -> Dict[str, Any]:
        """Answer a Cerbos public ``CheckResourcesRequest`` (the JSON body of
        ``POST /api/check/resources``) with the ``CheckResourcesResponse`` Cerbos would return.
        Aux-data JWTs are verified with ``jwt_keysets``; a bad token raises ``ValueError``."""
    # --- query planning ---------------------------------------------------------------------
    def plan_resources(
        self,
        principal: Any,
        resource: Any,
        actions: Union[str, Sequence[str]],
        *,
        aux_data: Optional[Mapping[str, Any]] = None,
        now: _Now = None,
        presence_tests: bool = False,
        exact: bool = False,
    ) -> Dict[str, Any]:
        """Which resources of ``resource["kind"]`` ``principal`` may act on with every one of
        ``actions`` (Cerbos's PlanResources). ``resource`` gives the kind and, optionally,
        ``policyVersion``, ``scope`` and the attributes already known (``attr``). Returns
        Cerbos's ``PlanResourcesResponse`` JSON: ``filter`` is ``{"kind": "KIND_ALWAYS_ALLOWED"}``,
        ``{"kind": "KIND_ALWAYS_DENIED"}`` or ``{"kind": "KIND_CONDITIONAL", "condition":
        operand}``, an operand being ``{"value": v}``, ``{"variable": "request.resource.attr.x"}``
        or ``{"expression": {"operator": op, "operands": [...]}}``; ``meta`` has ``filterDebug``
        and ``matchedScopes``. ``presence_tests=True`` writes ``has(R.attr.x)`` as
        ``{"expression": {"operator": "has", "operands": [{"variable": "request.resource.attr.x"}]}}``
        where Cerbos writes ``true`` (which drops the test). ``exact=True`` plans as ``check``
        decides, row for row: each condition leaf in an ``isTrue`` operator (a leaf that fails on a
        row is false there, as ``check`` counts it), roles taken one by one (one role's ALLOW wins
        over another's DENY), presence tests kept; refused (``ValueError``) on an engine with
        ``strict_evaluation``. Exact plans are read by warden's adapters, not by
        ``cerbos_sqlalchemy``. Raises ``ValueError`` naming a bad field."""
    def plan_resources_json(
        self, request: Mapping[str, Any], *, now: _Now = None, exact: bool = False
    ) -> Dict[str, Any]:
        """Answer a Cerbos public ``PlanResourcesRequest`` (the JSON body of
        ``POST /api/plan/resources``) with the ``PlanResourcesResponse`` Cerbos would return
        (``exact=True``: an exact plan, as for :meth:`plan_resources`).
        Aux-data JWTs are verified with ``jwt_keysets``."""
    # --- end of query planning --------------------------------------------------------------
    def flush_audit(self, timeout: Optional[float] = None) -> bool:
        """Wait until every decision-log entry produced so far has reached its sink; ``False``
        if ``timeout`` seconds passed first. ``True`` at once without a decision log."""
    def audit_stats(self) -> Optional[Dict[str, int]]:
        """The decision log's counters: ``queued``, ``processed``, ``dropped`` (full queue with
        ``on_full="drop"``) and ``failed`` (entries a sink did not take); ``None`` without a log."""
    def log_refusal(self, error: str) -> None:
        """Log a request refused before any decision (e.g. an invalid bearer token) as an entry
        whose ``checkResources.error`` is ``error``, with the current request context."""
    def reload(self, *, policy_version: Optional[str] = None) -> None:
        """Read and compile the policies again; on failure raise :class:`PolicyError` and keep
        serving the current set (and its version). On success :attr:`policy_version` becomes
        ``policy_version`` (``None`` when not given: the new set's version is unknown)."""
    @property
    def policy_version(self) -> Optional[str]:
        """The version the policies in force came from (a git commit, a bundle's digest), as
        given when they were loaded; ``None`` when not given. For health endpoints and logs."""

@final
class ClientCore:
    """The Rust half of :class:`warden.Client` (the SDK's request shapes and rules, results built as
    ``warden.models`` objects); use that class instead."""

    def __new__(cls, engine: Engine) -> Self: ...
    def is_allowed(
        self, action: Any, principal: Any, resource: Any, request_id: Any = None, aux_data: Any = None
    ) -> bool: ...
    def check_resources(
        self, principal: Any, resources: Any, request_id: Any, aux_data: Any = None
    ) -> CheckResourcesResponse: ...
    def close(self) -> None: ...

__version__: str

class InvalidToken(Exception):
    """The bearer token was refused; ready for an RFC 6750 WWW-Authenticate header."""

    error: str
    description: str
    status_code: int

class MalformedToken(InvalidToken): ...
class InvalidHeader(InvalidToken): ...
class UnsupportedAlgorithm(InvalidToken): ...
class UnknownKey(InvalidToken): ...
class InvalidSignature(InvalidToken): ...
class ExpiredToken(InvalidToken): ...
class InvalidClaims(InvalidToken): ...
class NotYetValid(InvalidClaims): ...
class InactiveToken(InvalidToken): ...
class ProviderUnavailable(InvalidToken): ...

@final
class JWTVerifierCore:
    def __new__(
        cls,
        *,
        jwks: Optional[str] = None,
        jwks_url: Optional[str] = None,
        key: Optional[bytes] = None,
        issuer: Optional[str] = None,
        audience: Optional[List[str]] = None,
        algorithms: Optional[List[str]] = None,
        leeway: int = 30,
        required_claims: List[str] = ...,
        expected_claims: Optional[str] = None,
        allowed_typ: List[str] = ...,
        max_token_bytes: int = 16384,
        max_lifetime: Optional[int] = None,
        allow_any_audience: bool = False,
        discovery: bool = False,
        http_timeout: float = 5.0,
        max_response_bytes: int = 524288,
        jwks_min_ttl: float = 60.0,
        jwks_max_ttl: float = 86400.0,
        jwks_default_ttl: float = 900.0,
        unknown_kid_cooldown: float = 30.0,
        max_stale: float = 86400.0,
        failure_backoff: float = 1.0,
    ) -> Self: ...
    def verify(self, token: str) -> Dict[str, Any]: ...
    def verify_cached(self, token: str) -> Optional[Dict[str, Any]]: ...
    def refresh_keys(self) -> int: ...
    def key_status(self) -> Dict[str, Any]: ...

@final
class IntrospectorCore:
    def __new__(
        cls,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        token_type_hint: Optional[str] = "access_token",
        issuer: Optional[str] = None,
        audience: Optional[List[str]] = None,
        max_cache: float = 60.0,
        cache_capacity: int = 10000,
        max_token_bytes: int = 16384,
        http_timeout: float = 5.0,
    ) -> Self: ...
    def verify(self, token: str) -> Dict[str, Any]: ...
    @property
    def cached_entries(self) -> int: ...

@final
class TokenInfoCore:
    def __new__(
        cls,
        url: str,
        *,
        max_cache: float = 60.0,
        cache_capacity: int = 10000,
        max_token_bytes: int = 16384,
        http_timeout: float = 5.0,
    ) -> Self: ...
    def verify(self, token: str) -> Dict[str, Any]: ...
    @property
    def cached_entries(self) -> int: ...

def discover_provider(issuer: str, *, http_timeout: float = 5.0) -> Dict[str, Optional[str]]: ...

# --- Rego (src/py/rego.rs) -------------------------------------------------
from typing import Tuple  # noqa: E402 (appended section)

class RegoError(Exception): ...
class RegoLoadError(RegoError): ...
class RegoEvalError(RegoError): ...

_RegoData = Union[Mapping[str, Any], str, os.PathLike[str], Sequence[Union[Mapping[str, Any], str, os.PathLike[str]]]]
_RegoPolicies = Union[Sequence[Union[str, Tuple[str, str]]], Mapping[str, str]]

@final
class Rego:
    @staticmethod
    def from_directory(
        path: Union[str, os.PathLike[str]], *, data: Optional[_RegoData] = None, syntax: str = "auto"
    ) -> Rego: ...
    @staticmethod
    def from_policies(policies: _RegoPolicies, *, data: Optional[_RegoData] = None, syntax: str = "auto") -> Rego: ...
    def eval(self, query: str, input: Any = None) -> Any: ...
    def query(self, query: str, input: Any = None) -> List[Dict[str, Any]]: ...
    def allowed(self, rule: str, input: Any = None) -> bool: ...
    def eval_batch(self, query: str, inputs: Iterable[Any]) -> List[Any]: ...
    def eval_data_api(self, path: str, body: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]: ...
    def reload(self, policies: Optional[_RegoPolicies] = None) -> None: ...
    @property
    def files(self) -> List[Tuple[str, str]]: ...
    @property
    def packages(self) -> List[str]: ...

# --- telemetry (warden.telemetry turns these on; not for direct use) ----------------------------

def _telemetry_enable(hook: Any, context: Any, span_key: Any, always: bool) -> None:
    """Record decisions, token checks, JWKS fetches and reloads; call ``hook(kind, start_ns,
    end_ns, attributes)`` for each call made while ``context.get()`` holds ``span_key`` (or for
    every call when ``always``)."""

def _telemetry_disable() -> None:
    """Stop recording (the counters keep their values) and drop the hook."""

def _telemetry_counters() -> Dict[str, Any]:
    """The cumulative counters behind warden's OpenTelemetry metrics."""
