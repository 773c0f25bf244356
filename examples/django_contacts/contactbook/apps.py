from django.apps import AppConfig


class ContactbookConfig(AppConfig):
    name = "contactbook"
    default_auto_field = "django.db.models.BigAutoField"
