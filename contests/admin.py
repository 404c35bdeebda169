from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from contestplatform.exceptions import Conflict
from leaderboards import services as board_services

from . import services
from .models import Contest, Participation, State
from .selectors import contest_list


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
        state = self.value()
        if not state:
            return queryset
        if state not in State.values:
            # The changelist answers this with its "?e=1" page, not a 500.
            raise IncorrectLookupParameters(f"Unknown state {state!r}.")
        wanted = contest_list(include_drafts=True, state=state)
        return queryset.filter(pk__in=wanted.values("pk"))


class ContestAdminForm(forms.ModelForm[Contest]):
    """Apply the rules the API applies: the admin is no way around them."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        contest = self.instance if self.instance.pk else None
        if contest is not None:
            try:
                services.contest_check_open(contest=contest)
            except Conflict as exc:
                raise forms.ValidationError(str(exc.detail), code="closed") from exc
            _keep_stored_microseconds(cleaned, contest)
        try:
            services.contest_check_rules(values=cleaned, instance=contest)
        except services.ContestRuleError as exc:
            for name, message in exc.errors.items():
                self.add_error(name if name in self.fields else None, message)
        return cleaned


def _keep_stored_microseconds(cleaned: dict[str, Any], contest: Contest) -> None:
    # The admin's time widget shows whole seconds. Without this, saving any
    # change would also shift each time by its microseconds, and a started
    # contest would refuse the "moved" start or the "earlier" end.
    for name in ("starts_at", "ends_at", "freeze_at"):
        stored, sent = getattr(contest, name), cleaned.get(name)
        if stored and sent and sent == stored.replace(microsecond=0):
            cleaned[name] = stored


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
    form = ContestAdminForm
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

    def has_delete_permission(
        self, request: HttpRequest, obj: Contest | None = None
    ) -> bool:
        # As in the API, only drafts may go; a contest that was published
        # has participants and results to keep.
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.state == State.DRAFT)

    def save_model(
        self, request: HttpRequest, obj: Contest, form: object, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
