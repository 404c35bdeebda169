from django.apps import AppConfig


class ContestsConfig(AppConfig):
    name = "contests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receivers that keep the contest cache in step.
        from . import cache  # noqa: F401
