"""``settings.WARDEN``: what it may hold, how it is checked, and the objects built from it.

::

    WARDEN = {
        "POLICY_DIR": BASE_DIR / "policies",
        "ISSUER": "https://idp.example.com",      # OIDC discovery finds the keys ...
        "AUDIENCE": "api://contacts",
        "JWKS_URL": "https://idp.example.com/jwks",  # ... or give them
    }
    WARDEN = {"POLICY_DIR": "policies", "PRESET": {"name": "okta", "issuer": "...", "audience": "api://default"}}

Every key is listed in :data:`KEYS`. :func:`problems` checks a value of the setting without
building anything (the system checks report each problem as an error naming the key, see
:mod:`warden.django.checks`); :func:`runtime` builds the engine and the token verifier once and
keeps them until the setting changes (``override_settings`` in tests).
"""

from __future__ import annotations

import difflib
import inspect
import os
import threading
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

import warden
from warden._web import TokenSources
from warden.jwt import Introspector, JWTVerifier, TokenInfo
from warden.models import Principal

__all__ = ["KEYS", "PRESETS", "Problem", "Runtime", "SettingError", "build", "problems", "runtime"]

SETTING = "WARDEN"

#: every key of ``settings.WARDEN`` and what it holds
KEYS: Dict[str, str] = {
    "POLICY_DIR": "the directory of Cerbos policies (a str or path)",
    "ENGINE": "a warden.Engine, or the dotted path of one (instead of POLICY_DIR)",
    "ENGINE_OPTIONS": "keyword arguments of warden.Engine.from_directory (a dict)",
    "ISSUER": "the token issuer (with OIDC discovery of the keys unless JWKS_URL is given)",
    "AUDIENCE": "the audience tokens must carry (a str or list of str)",
    "JWKS_URL": "where the signing keys are published",
    "ALGORITHMS": "the accepted signature algorithms (a list of str)",
    "PRESET": 'a JWTVerifier preset: {"name": "cognito" | "okta" | "stytch" | "oidc", **its arguments}',
    "INTROSPECTION_URL": "an RFC 7662 introspection endpoint (with CLIENT_ID and CLIENT_SECRET)",
    "CLIENT_ID": "the client id for INTROSPECTION_URL",
    "CLIENT_SECRET": "the client secret for INTROSPECTION_URL",
    "TOKENINFO_URL": "a STUPS-style tokeninfo endpoint",
    "VERIFIER": "a token verifier object (JWTVerifier, Introspector, TokenInfo), or its dotted path",
    "PRINCIPAL_MAPPER": "a callable (or its dotted path) turning verified claims into a warden.Principal",
    "HEADER": "whether the Authorization: Bearer header is a token source (a bool, default True)",
    "COOKIE": "the name of a cookie holding a token",
    "SESSION_KEY": "the session key holding a token (server-rendered pages; needs django.contrib.sessions)",
    "REALM": "the realm of the WWW-Authenticate challenges",
    "LOGIN_URL": "where pages send visitors without a token (default settings.LOGIN_URL)",
}
_VERIFICATION = ("ISSUER", "JWKS_URL", "PRESET", "INTROSPECTION_URL", "TOKENINFO_URL", "VERIFIER")
_STRINGS = (
    "ISSUER",
    "JWKS_URL",
    "INTROSPECTION_URL",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TOKENINFO_URL",
    "COOKIE",
    "SESSION_KEY",
    "REALM",
    "LOGIN_URL",
)

#: the JWTVerifier presets PRESET may name
PRESETS: Dict[str, Callable[..., JWTVerifier]] = {
    "cognito": JWTVerifier.cognito,
    "okta": JWTVerifier.okta,
    "stytch": JWTVerifier.stytch,
    "oidc": JWTVerifier.oidc,
}


class Problem(NamedTuple):
    """One thing wrong with ``settings.WARDEN``: a system check's id, the key, the message and a hint."""

    id: str
    key: str
    message: str
    hint: Optional[str] = None


class SettingError(ImproperlyConfigured):
    """``settings.WARDEN`` cannot be used; ``problem`` says which key and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.message} ({problem.id})" + (f"; {problem.hint}" if problem.hint else ""))
        self.problem = problem


def _fail(id: str, key: str, message: str) -> SettingError:  # noqa: A002 - the system check's word
    return SettingError(Problem(id, key, f"{_name(key)}: {message}"))


def _name(key: str) -> str:
    return f'settings.{SETTING}["{key}"]' if key else f"settings.{SETTING}"


def problems(config: Any) -> List[Problem]:
    """What is wrong with ``config`` (a value of ``settings.WARDEN``), without building anything."""
    if config is None:
        return [
            Problem(
                "warden.E001", "", f"settings.{SETTING} is not set", 'add WARDEN = {"POLICY_DIR": ..., "ISSUER": ...}'
            )
        ]
    if not isinstance(config, Mapping):
        return [Problem("warden.E001", "", f"settings.{SETTING} must be a dict, not {type(config).__name__}")]
    found: List[Problem] = []
    for key in config:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(KEYS)}"
            found.append(Problem("warden.E002", str(key), f"{_name(str(key))} is not a warden setting", hint))
    for key in _STRINGS:
        value = config.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            found.append(
                Problem("warden.E003", key, f"{_name(key)} must be a non-empty string, not {value!r}", KEYS[key])
            )
    if not isinstance(config.get("HEADER", True), bool):
        found.append(Problem("warden.E003", "HEADER", f"{_name('HEADER')} must be True or False", KEYS["HEADER"]))
    for key in ("AUDIENCE", "ALGORITHMS"):
        value = config.get(key)
        if value is not None and not _strings(value, allow_one=key == "AUDIENCE"):
            found.append(
                Problem(
                    "warden.E003", key, f"{_name(key)} must be a string or a list of strings, not {value!r}", KEYS[key]
                )
            )
    found += _policy_problems(config)
    found += _verification_problems(config)
    if not (config.get("HEADER", True) or config.get("COOKIE") or config.get("SESSION_KEY")):
        found.append(
            Problem(
                "warden.E011",
                "HEADER",
                f"{_name('HEADER')} is False and neither COOKIE nor SESSION_KEY is set: no token source",
            )
        )
    if config.get("SESSION_KEY") and "django.contrib.sessions" not in settings.INSTALLED_APPS:
        found.append(
            Problem(
                "warden.E010",
                "SESSION_KEY",
                f"{_name('SESSION_KEY')} needs sessions",
                "add 'django.contrib.sessions' to INSTALLED_APPS",
            )
        )
    for key in ("ENGINE", "VERIFIER", "PRINCIPAL_MAPPER"):
        value = config.get(key)
        if isinstance(value, str):
            try:
                import_string(value)
            except ImportError as exc:
                found.append(Problem("warden.E009", key, f"{_name(key)}: cannot import {value!r} ({exc})"))
    return found


def _strings(value: Any, allow_one: bool) -> bool:
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, str) and v for v in value)


def _policy_problems(config: Mapping[str, Any]) -> List[Problem]:
    policy_dir, engine = config.get("POLICY_DIR"), config.get("ENGINE")
    if policy_dir is None and engine is None:
        return [
            Problem(
                "warden.E004",
                "POLICY_DIR",
                f"{_name('POLICY_DIR')} is not set",
                "the directory of your Cerbos policies",
            )
        ]
    if policy_dir is not None and engine is not None:
        return [Problem("warden.E004", "ENGINE", f"{_name('POLICY_DIR')} and {_name('ENGINE')} are both set: give one")]
    found: List[Problem] = []
    if policy_dir is not None:
        if not isinstance(policy_dir, (str, os.PathLike)):
            found.append(
                Problem(
                    "warden.E003",
                    "POLICY_DIR",
                    f"{_name('POLICY_DIR')} must be a path, not {type(policy_dir).__name__}",
                )
            )
        elif not os.path.isdir(policy_dir):
            found.append(
                Problem(
                    "warden.E005", "POLICY_DIR", f"{_name('POLICY_DIR')}: {os.fspath(policy_dir)!r} is not a directory"
                )
            )
    options = config.get("ENGINE_OPTIONS")
    if options is not None:
        if not isinstance(options, Mapping):
            found.append(Problem("warden.E003", "ENGINE_OPTIONS", f"{_name('ENGINE_OPTIONS')} must be a dict"))
        elif engine is not None:
            found.append(
                Problem(
                    "warden.E004", "ENGINE_OPTIONS", f"{_name('ENGINE_OPTIONS')} applies to POLICY_DIR, not to ENGINE"
                )
            )
        else:
            accepted = set(inspect.signature(warden.Engine.from_directory).parameters) - {"path"}
            for key in options:
                if key not in accepted:
                    found.append(
                        Problem(
                            "warden.E003",
                            "ENGINE_OPTIONS",
                            f"{_name('ENGINE_OPTIONS')}: {key!r} is not an option of Engine.from_directory",
                            f"the options are {', '.join(sorted(accepted))}",
                        )
                    )
    return found


def _verification_problems(config: Mapping[str, Any]) -> List[Problem]:
    given = [k for k in _VERIFICATION if config.get(k) is not None]
    # ISSUER goes with JWKS_URL (one JWT check) and with INTROSPECTION_URL (the expected issuer)
    methods = [k for k in given if not (k == "ISSUER" and ("JWKS_URL" in given or "INTROSPECTION_URL" in given))]
    if not methods:
        return [
            Problem(
                "warden.E006",
                "ISSUER",
                f"{_name('')} configures no token verification",
                "set ISSUER (and AUDIENCE), JWKS_URL, PRESET, INTROSPECTION_URL, TOKENINFO_URL or VERIFIER",
            )
        ]
    if len(methods) > 1:
        return [
            Problem(
                "warden.E007",
                methods[1],
                f"{_name(methods[0])} and {_name(methods[1])} both configure token verification: keep one",
            )
        ]
    found: List[Problem] = []
    if "INTROSPECTION_URL" in methods and not (config.get("CLIENT_ID") and config.get("CLIENT_SECRET")):
        found.append(
            Problem(
                "warden.E008", "INTROSPECTION_URL", f"{_name('INTROSPECTION_URL')} needs CLIENT_ID and CLIENT_SECRET"
            )
        )
    preset = config.get("PRESET")
    if preset is not None:
        if not isinstance(preset, Mapping) or preset.get("name") not in PRESETS:
            found.append(
                Problem(
                    "warden.E008",
                    "PRESET",
                    f'{_name("PRESET")} must be a dict whose "name" is one of {", ".join(PRESETS)}, not {preset!r}',
                    'e.g. {"name": "okta", "issuer": "https://example.okta.com/oauth2/default", "audience": "api://default"}',
                )
            )
        else:
            arguments = {k: v for k, v in preset.items() if k != "name"}
            try:
                inspect.signature(PRESETS[preset["name"]]).bind(**arguments)
            except TypeError as exc:
                found.append(
                    Problem("warden.E008", "PRESET", f"{_name('PRESET')}: {exc} for the {preset['name']!r} preset")
                )
    return found


# --- what the settings build --------------------------------------------------------------------


class DjangoTokenSources(TokenSources[Any]):
    """:class:`warden._web.TokenSources` reading a Django ``HttpRequest``."""

    __slots__ = ()

    def authorization(self, request: Any) -> Optional[str]:
        return request.META.get("HTTP_AUTHORIZATION")

    def cookie_value(self, request: Any, name: str) -> Optional[str]:
        return request.COOKIES.get(name)

    def session(self, request: Any) -> Any:
        session = getattr(request, "session", None)
        if session is None:
            raise ImproperlyConfigured(
                f"{_name('SESSION_KEY')} is set but the request has no session: add "
                "'django.contrib.sessions.middleware.SessionMiddleware' to MIDDLEWARE before warden's"
            )
        return session


class Runtime(NamedTuple):
    """What ``settings.WARDEN`` builds: the engine, the verifier, the token sources and the answers' settings."""

    engine: Any
    verifier: Any
    sources: DjangoTokenSources
    to_principal: Callable[[Dict[str, Any]], Principal]
    realm: Optional[str]
    login_url: str


_lock = threading.Lock()
_built: Optional[Runtime] = None


def runtime() -> Runtime:
    """The objects ``settings.WARDEN`` describes, built on first use and kept until the setting changes.

    Raises ``ImproperlyConfigured`` naming the first problem (the system checks report them all).
    """
    global _built
    built = _built
    if built is not None:
        return built
    with _lock:
        if _built is None:
            _built = build(getattr(settings, SETTING, None))
        return _built


def build(config: Any) -> Runtime:
    """The :class:`Runtime` of ``config``; ``ImproperlyConfigured`` naming the first problem."""
    found = problems(config)
    if found:
        raise SettingError(found[0])
    engine = _engine(config)
    verifier = _verifier(config)
    mapper = config.get("PRINCIPAL_MAPPER")
    if isinstance(mapper, str):
        mapper = import_string(mapper)
    if mapper is None:
        mapper = getattr(verifier, "principal", None)
        if mapper is None:
            raise _fail("warden.E008", "PRINCIPAL_MAPPER", "required: the verifier has no principal() method")
    elif not callable(mapper):
        raise _fail("warden.E003", "PRINCIPAL_MAPPER", f"must be callable, not {type(mapper).__name__}")
    sources = DjangoTokenSources(
        header=config.get("HEADER", True), cookie=config.get("COOKIE"), session_key=config.get("SESSION_KEY")
    )
    login_url = config.get("LOGIN_URL") or str(settings.LOGIN_URL)
    return Runtime(engine, verifier, sources, mapper, config.get("REALM"), login_url)


def _engine(config: Mapping[str, Any]) -> Any:
    engine = config.get("ENGINE")
    if isinstance(engine, str):
        engine = import_string(engine)
    if engine is not None:
        if not (hasattr(engine, "is_allowed") and hasattr(engine, "plan_resources")):
            raise _fail("warden.E003", "ENGINE", f"must be a warden.Engine, not {type(engine).__name__}")
        return engine
    try:
        return warden.Engine.from_directory(config["POLICY_DIR"], **dict(config.get("ENGINE_OPTIONS") or {}))
    except warden.PolicyError as exc:
        raise _fail("warden.E005", "POLICY_DIR", f"the policies do not load:\n{exc}") from exc
    except (TypeError, ValueError) as exc:
        raise _fail("warden.E003", "ENGINE_OPTIONS", str(exc)) from exc


def _verifier(config: Mapping[str, Any]) -> Any:
    def named(key: str, make: Callable[[], Any]) -> Any:
        try:
            return make()
        except (TypeError, ValueError) as exc:
            raise _fail("warden.E008", key, str(exc)) from exc

    verifier = config.get("VERIFIER")
    if verifier is not None:
        if isinstance(verifier, str):
            verifier = import_string(verifier)
        if not hasattr(verifier, "verify"):
            raise _fail("warden.E008", "VERIFIER", f"must have a verify(token) method, not {type(verifier).__name__}")
        return verifier
    if config.get("TOKENINFO_URL"):
        return named("TOKENINFO_URL", lambda: TokenInfo(config["TOKENINFO_URL"]))
    if config.get("INTROSPECTION_URL"):
        return named(
            "INTROSPECTION_URL",
            lambda: Introspector(
                config["INTROSPECTION_URL"],
                config["CLIENT_ID"],
                config["CLIENT_SECRET"],
                issuer=config.get("ISSUER"),
                audience=config.get("AUDIENCE"),
            ),
        )
    preset = config.get("PRESET")
    if preset is not None:
        arguments = {k: v for k, v in preset.items() if k != "name"}
        return named("PRESET", lambda: PRESETS[preset["name"]](**arguments))
    options: Dict[str, Any] = {"issuer": config.get("ISSUER"), "audience": config.get("AUDIENCE")}
    if config.get("ALGORITHMS"):
        algorithms = config["ALGORITHMS"]
        options["algorithms"] = [algorithms] if isinstance(algorithms, str) else list(algorithms)
    if config.get("JWKS_URL"):
        return named("JWKS_URL", lambda: JWTVerifier(jwks_url=config["JWKS_URL"], **options))
    return named("ISSUER", lambda: JWTVerifier(discovery=True, **options))


def _forget(*, setting: str, **kwargs: Any) -> None:
    global _built
    if setting in (SETTING, "LOGIN_URL", "INSTALLED_APPS"):
        with _lock:
            _built = None


setting_changed.connect(_forget, dispatch_uid="warden.django.conf")
