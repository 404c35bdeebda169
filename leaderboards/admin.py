from typing import Any, cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from contestplatform.exceptions import Conflict

from . import services
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
    actions = ["hide_entries", "unhide_entries"]
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

    @admin.action(description="Hide from the public board")
    def hide_entries(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description="Show on the public board again")
    def unhide_entries(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        self._set_hidden(request, queryset, hidden=False)

    def _set_hidden(
        self, request: HttpRequest, queryset: QuerySet[Entry], *, hidden: bool
    ) -> None:
        actor = cast(User, request.user)
        done = 0
        for entry in queryset.select_related("contest"):
            try:
                services.entry_set_hidden(
                    contest=entry.contest,
                    user_id=entry.user_id,
                    hidden=hidden,
                    actor=actor,
                )
                done += 1
            except Conflict as exc:
                self.message_user(request, f"{entry}: {exc.detail}")
        self.message_user(request, f"{done} entr{'y' if done == 1 else 'ies'} updated.")


@admin.register(Standing)
class StandingAdmin(ReadOnlyAdmin):
    list_display = ["contest", "rank", "user", "score", "reached_at", "hidden"]
    search_fields = ["contest__slug", "user__display_name"]
    list_select_related = ["contest", "user"]
    ordering = ["contest", "rank"]
