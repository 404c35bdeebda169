from django.apps import AppConfig


class RatelimitConfig(AppConfig):
    name = "ratelimit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing registers the system checks.
        from . import checks  # noqa: F401
