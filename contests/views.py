"""HTTP endpoints of contests: CRUD for admins, lifecycle, join and leave."""

from collections.abc import Callable

from django.db.models import Count, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import BaseThrottle

from accounts.permissions import IsActiveUser, IsAdmin, request_is_admin, request_user
from leaderboards import services as board_services
from ratelimit.throttles import AdminWriteThrottle, ReadThrottle, UserWriteThrottle

from . import selectors, services
from .models import Contest, State
from .serializers import ContestSerializer, ContestUpdateSerializer


def _rule_errors(exc: services.ContestRuleError) -> ValidationError:
    return ValidationError({name: [message] for name, message in exc.errors.items()})


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("state", str, enum=[s.value for s in State])]
    )
)
class ContestViewSet(viewsets.ModelViewSet[Contest]):
    """Contests by slug. Everyone reads published ones; admins steer them."""

    may_conflict = True  # lifecycle, join and leave answer 409 by state
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        if self.action in ("join", "leave"):
            return [IsActiveUser()]
        return [IsAdmin()]

    def get_throttles(self) -> list[BaseThrottle]:
        if self.action in ("join", "leave"):
            return [UserWriteThrottle()]
        return [ReadThrottle(), AdminWriteThrottle()]

    def get_serializer_class(self) -> type[BaseSerializer[Contest]]:
        if self.action in ("update", "partial_update"):
            return ContestUpdateSerializer
        return ContestSerializer

    def get_queryset(self) -> QuerySet[Contest]:
        # The state filter narrows the list only: a contest's own URL and
        # its actions must find it whatever the query string says.
        state = self._state_param() if self.action == "list" else ""
        contests = selectors.contest_list(
            include_drafts=request_is_admin(self.request), state=state
        )
        return contests.annotate(participant_count=Count("participants"))

    def _state_param(self) -> str:
        state = self.request.query_params.get("state", "")
        if state and state not in State.values:
            raise ValidationError(
                {"state": [f"Choose one of {', '.join(State.values)}."]}
            )
        return state

    def _reread(self, contest: Contest) -> Contest:
        """Load a contest again with the annotations its serializer shows."""
        return self.get_queryset().get(pk=contest.pk)

    def perform_create(self, serializer: BaseSerializer[Contest]) -> None:
        try:
            contest = services.contest_create(
                actor=request_user(self.request), values=serializer.validated_data
            )
        except services.ContestRuleError as exc:
            raise _rule_errors(exc) from exc
        serializer.instance = self._reread(contest)

    def perform_update(self, serializer: BaseSerializer[Contest]) -> None:
        contest = self.get_object()
        try:
            contest = services.contest_update(
                contest=contest, values=serializer.validated_data
            )
        except services.ContestRuleError as exc:
            raise _rule_errors(exc) from exc
        serializer.instance = self._reread(contest)

    def perform_destroy(self, instance: Contest) -> None:
        services.contest_delete(contest=instance)

    def _lifecycle(self, change: Callable[..., Contest]) -> Response:
        contest = change(contest=self.get_object())
        return Response(ContestSerializer(self._reread(contest)).data)

    @extend_schema(request=None, responses=ContestSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, slug: str) -> Response:
        return self._lifecycle(services.contest_publish)

    @extend_schema(request=None, responses=ContestSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, slug: str) -> Response:
        return self._lifecycle(services.contest_start)

    @extend_schema(request=None, responses=ContestSerializer)
    @action(detail=True, methods=["post"])
    def freeze(self, request: Request, slug: str) -> Response:
        return self._lifecycle(services.contest_freeze)

    @extend_schema(request=None, responses=ContestSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request: Request, slug: str) -> Response:
        return self._lifecycle(services.contest_end)

    @extend_schema(request=None, responses=ContestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, slug: str) -> Response:
        return self._lifecycle(services.contest_cancel)

    @extend_schema(request=None, responses=ContestSerializer)
    @action(detail=True, methods=["post"])
    def finalize(self, request: Request, slug: str) -> Response:
        return self._lifecycle(board_services.contest_finalize)

    @extend_schema(request=None, responses={201: None})
    @action(detail=True, methods=["post"])
    def join(self, request: Request, slug: str) -> Response:
        services.participation_join(
            contest=self.get_object(), user=request_user(request)
        )
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, slug: str) -> Response:
        services.participation_leave(
            contest=self.get_object(), user=request_user(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
