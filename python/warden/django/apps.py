"""The Django app: add ``"warden.django"`` to ``INSTALLED_APPS`` for the system checks and the template tags."""

from django.apps import AppConfig


class WardenConfig(AppConfig):
    """Registers the checks of ``settings.WARDEN`` (:mod:`warden.django.checks`)."""

    name = "warden.django"
    label = "warden"
    verbose_name = "warden"

    def ready(self) -> None:
        from warden.django import checks  # noqa: F401 - registers the checks
