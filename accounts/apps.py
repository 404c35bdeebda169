from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of the authentication classes,
        # and connects the receivers that keep the cached user state in step.
        from . import cache, schema  # noqa: F401
