"""System checks of ``settings.WARDEN``: ``manage.py check`` (and every ``runserver``/``migrate``)
reports each misconfiguration as an error naming the setting, before a request is served.

The checks build what the setting describes (the policies are loaded, the verifier made without
any network call), so a policy that does not compile is reported here too, with its file and
line; the objects built are kept for the first request.
"""

from __future__ import annotations

from typing import Any, List

from django.conf import settings
from django.core import checks

from warden.django.conf import SETTING, SettingError, problems, runtime

MIDDLEWARE = "warden.django.middleware.WardenMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"


@checks.register("warden")
def check_settings(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    """The problems of ``settings.WARDEN``, as errors ``warden.E001`` ... ``warden.E011``."""
    config = getattr(settings, SETTING, None)
    found = problems(config)
    errors: List[checks.CheckMessage] = [checks.Error(p.message, hint=p.hint, id=p.id) for p in found]
    if not found:
        try:
            runtime()
        except SettingError as exc:
            errors.append(checks.Error(exc.problem.message, hint=exc.problem.hint, id=exc.problem.id))
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    if isinstance(config, dict) and config.get("SESSION_KEY") and MIDDLEWARE in middleware:
        if SESSION_MIDDLEWARE not in middleware or middleware.index(SESSION_MIDDLEWARE) > middleware.index(MIDDLEWARE):
            errors.append(
                checks.Error(
                    f'settings.{SETTING}["SESSION_KEY"] is set but {SESSION_MIDDLEWARE} does not come before {MIDDLEWARE}',
                    hint="put SessionMiddleware before WardenMiddleware in MIDDLEWARE",
                    id="warden.E010",
                )
            )
    return errors
