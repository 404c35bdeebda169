from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    name = "leaderboards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receivers that keep board names in step with accounts,
        # and registers the system checks.
        from . import checks, signals  # noqa: F401
