from django.apps import AppConfig


class PlansConfig(AppConfig):
    """Models for the differential tests of query plans as Q objects."""

    name = "tests.django.plans"
    label = "warden_plans"
