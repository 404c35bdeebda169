from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Entry, Standing, Submission


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """The log and the results are changed only through services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["id", "contest", "user", "kind", "score", "outcome", "created_at"]
    list_filter = ["kind", "outcome"]
    search_fields = ["contest__slug", "user__email", "user__display_name"]
    list_select_related = ["contest", "user"]
    raw_id_fields = ["contest", "user", "created_by"]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = [
        "contest",
        "user",
        "score",
        "reached_at",
        "submission_count",
        "hidden",
    ]
    list_filter = ["hidden"]
    search_fields = ["contest__slug", "user__email", "user__display_name"]
    list_select_related = ["contest", "user"]


@admin.register(Standing)
class StandingAdmin(ReadOnlyAdmin):
    list_display = ["contest", "rank", "user", "score", "reached_at", "hidden"]
    search_fields = ["contest__slug", "user__display_name"]
    list_select_related = ["contest", "user"]
    ordering = ["contest", "rank"]
