from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from contestplatform.exceptions import Conflict
from leaderboards import services as board_services

from . import services
from .models import Contest, Participation, State


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(
        self, request: HttpRequest, model_admin: object
    ) -> list[tuple[str, str]]:
        return [(state.value, state.label) for state in State]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Contest]
    ) -> QuerySet[Contest]:
        from .selectors import contest_list

        if not self.value():
            return queryset
        wanted = contest_list(include_drafts=True, state=self.value() or "")
        return queryset.filter(pk__in=wanted.values("pk"))


class ParticipationInline(admin.TabularInline[Participation, Contest]):
    model = Participation
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["joined_at"]


def _lifecycle_action(
    change: Callable[..., Contest], description: str
) -> Callable[[admin.ModelAdmin[Contest], HttpRequest, QuerySet[Contest]], None]:
    def run(
        model_admin: admin.ModelAdmin[Contest],
        request: HttpRequest,
        queryset: QuerySet[Contest],
    ) -> None:
        done = 0
        for contest in queryset:
            try:
                change(contest=contest)
                done += 1
            except Conflict as exc:
                model_admin.message_user(
                    request, f"{contest.slug}: {exc.detail}", level=messages.WARNING
                )
        model_admin.message_user(request, f"{description}: {done} contest(s).")

    run.__name__ = change.__name__
    return admin.action(description=description)(run)


@admin.register(Contest)
class ContestAdmin(admin.ModelAdmin[Contest]):
    list_display = [
        "slug",
        "title",
        "state_display",
        "scoring",
        "order",
        "ties",
        "starts_at",
        "ends_at",
    ]
    list_filter = [StateFilter, "scoring", "order", "ties", "join_required"]
    search_fields = ["slug", "title"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = [
        "published_at",
        "cancelled_at",
        "finalized_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [ParticipationInline]
    actions = [
        _lifecycle_action(services.contest_publish, "Publish"),
        _lifecycle_action(services.contest_start, "Start now"),
        _lifecycle_action(services.contest_freeze, "Freeze now"),
        _lifecycle_action(services.contest_end, "End now"),
        _lifecycle_action(board_services.contest_finalize, "Finalize"),
        _lifecycle_action(services.contest_cancel, "Cancel"),
    ]

    @admin.display(description="state")
    def state_display(self, contest: Contest) -> str:
        return contest.state_at(timezone.now()).label

    def save_model(
        self, request: HttpRequest, obj: Contest, form: object, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
