"""HTTP endpoints of the leaderboards, nested under /contests/{slug}/."""

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from accounts.permissions import IsActiveUser, IsAdmin, request_is_admin, request_user
from contestplatform.exceptions import ServiceUnavailable
from contests.models import Contest, State
from contests.selectors import contest_get
from ratelimit.identity import client_address
from ratelimit.throttles import (
    AdminWriteThrottle,
    ReadThrottle,
    StreamConnectThrottle,
    SubmissionThrottle,
)

from . import board, selectors, services
from .models import Submission
from .serializers import (
    AdjustSerializer,
    LeaderboardMeSerializer,
    PageSerializer,
    SubmissionSerializer,
    SubmitResponseSerializer,
    SubmitSerializer,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 10**9
MAX_NEIGHBOURS = 25
MAX_USERS = 100
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


def _contest(request: Request, slug: str) -> Contest:
    """The contest of the URL; drafts exist only for admins."""
    contest = contest_get(slug=slug)
    if contest is None or (
        contest.published_at is None and not request_is_admin(request)
    ):
        raise NotFound("No contest has this slug.", code="contest_not_found")
    return contest


def _int_param(
    request: Request, name: str, default: int, *, low: int, high: int, clamp: bool
) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(
            {name: ["An integer is required."]}, code="invalid"
        ) from None
    if value < low or (value > high and not clamp):
        raise ValidationError(
            {name: [f"Must lie between {low} and {high}."]}, code="out_of_range"
        )
    return min(value, high)


def _viewer(request: Request) -> selectors.Viewer:
    user = request.user
    is_admin = request_is_admin(request)
    view = request.query_params.get("view", "public")
    if view not in ("public", "live"):
        raise ValidationError({"view": ["Choose public or live."]}, code="invalid")
    if view == "live" and not is_admin:
        raise PermissionDenied("Only admins can see the live board.", code="admin_only")
    return selectors.Viewer(
        user_id=user.pk if user.is_authenticated else None,
        is_admin=is_admin,
        live=view == "live",
    )


def _user_ids(raw: str) -> list[int]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or len(parts) > MAX_USERS:
        raise ValidationError(
            {"users": [f"Give 1 to {MAX_USERS} comma-separated user ids."]},
            code="invalid",
        )
    try:
        ids = sorted({int(part) for part in parts})
    except ValueError:
        raise ValidationError(
            {"users": ["User ids are integers."]}, code="invalid"
        ) from None
    if any(not 0 < uid < 10**12 for uid in ids):
        raise ValidationError({"users": ["User ids are positive."]}, code="invalid")
    return ids


def _address(request: Request) -> str | None:
    address = client_address(request)
    return None if address is None else str(address)


def _iso(moment: object) -> str | None:
    return board.iso_utc(moment) if isinstance(moment, datetime) else None


def _rows(page_rows: list[board.Row]) -> list[dict[str, Any]]:
    # Built by hand, not by RowSerializer: on a page of 50 the serializer
    # and dataclasses.asdict took more time than the rest of the request.
    # The serializers still describe the shape in the schema, and a test
    # checks that both give the same JSON.
    return [
        {
            "rank": row.rank,
            "user_id": row.user_id,
            "display_name": row.display_name,
            "score": row.score,
            "reached_at": row.reached_at_text,
        }
        for row in page_rows
    ]


def _submit_body(result: services.SubmitResult) -> dict[str, Any]:
    """What SubmitResponseSerializer renders, built by hand like ``_rows``.

    The model serializer built its fields anew for every submission, a
    quarter of the request's time; a test checks both give the same JSON.
    """
    submission = result.submission
    return {
        "submission": {
            "id": submission.pk,
            "user_id": submission.user_id,
            "kind": submission.kind,
            "score": submission.score,
            "created_at": _iso(submission.created_at),
            "outcome": submission.outcome,
            "new_best": submission.new_best,
            "entry": {
                "score": submission.entry_score,
                "reached_at": _iso(submission.entry_reached_at),
                "version": submission.entry_version,
            },
            "reason": submission.reason,
        },
        "score": submission.entry_score,
        "rank": result.rank,
        "new_best": submission.new_best,
    }


def _is_frozen_view(contest: Contest, viewer: selectors.Viewer) -> bool:
    return contest.state == State.FROZEN and not (viewer.is_admin and viewer.live)


VIEW_PARAM = OpenApiParameter(
    "view", str, enum=["public", "live"], description="live: admins only."
)


class LeaderboardViewSet(viewsets.ViewSet):
    """Ranked reads of a contest's board; anyone may read published ones."""

    permission_classes = [AllowAny]
    may_forbid = True  # ?view=live is for admins
    list_answers_one_object = True  # a page: count, offsets and rows

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "me":
            return [IsActiveUser()]
        return [AllowAny()]

    def get_throttles(self) -> list[BaseThrottle]:
        if self.action == "stream":
            return [StreamConnectThrottle()]
        return [ReadThrottle()]

    @extend_schema(
        summary="Live leaderboard changes (Server-Sent Events)",
        description=(
            "Served by the ASGI stream server (STREAM_BASE_URL; port 8001 under "
            "`make run`); this process redirects there. Events: `snapshot` (top N "
            "and total), `change` (user, score, rank, old rank), `you` (the "
            "viewer's own moves), `final` (then the stream ends); a comment "
            "line every STREAM_HEARTBEAT_SECONDS. Reconnect with `Last-Event-ID` "
            "to get missed events, or a snapshot with `resync: true`."
        ),
        parameters=[
            OpenApiParameter("top", int, description="Snapshot size, 1 to 100."),
            OpenApiParameter("Last-Event-ID", str, location=OpenApiParameter.HEADER),
        ],
        responses={
            (200, "text/event-stream"): OpenApiTypes.STR,
            307: OpenApiResponse(description="Go to the stream server."),
        },
    )
    def stream(self, request: Request, slug: str) -> Response:
        _contest(request, slug)
        base = settings.STREAM_BASE_URL
        if not base:
            raise ServiceUnavailable(
                "Streams are served by the ASGI server, which is not configured.",
                code="stream_unavailable",
            )
        location = base.rstrip("/") + request.get_full_path()
        return Response(
            status=status.HTTP_307_TEMPORARY_REDIRECT, headers={"Location": location}
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("offset", int),
            OpenApiParameter("limit", int, description="1 to 200 (clamped)."),
            OpenApiParameter("users", str, description="Comma-separated ids."),
            VIEW_PARAM,
        ],
        responses=PageSerializer,
        operation_id="contests_leaderboard_list",
    )
    def list(self, request: Request, slug: str) -> Response:
        contest = _contest(request, slug)
        viewer = _viewer(request)
        users = request.query_params.get("users")
        if users is not None:
            found = selectors.leaderboard_users(
                contest=contest, viewer=viewer, user_ids=_user_ids(users)
            )
            offset, limit = 0, len(found.rows)
        else:
            offset = _int_param(
                request, "offset", 0, low=0, high=MAX_OFFSET, clamp=False
            )
            limit = _int_param(
                request, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT, clamp=True
            )
            found = selectors.leaderboard_page(
                contest=contest, viewer=viewer, offset=offset, limit=limit
            )
        following = offset + limit
        body = {
            "count": found.total,
            "offset": offset,
            "limit": limit,
            "next_offset": following
            if users is None and following < found.total
            else None,
            "frozen": _is_frozen_view(contest, viewer),
            "results": _rows(found.rows),
        }
        return Response(body)

    @extend_schema(
        parameters=[
            OpenApiParameter("neighbours", int, description="0 to 25."),
            VIEW_PARAM,
        ],
        responses=LeaderboardMeSerializer,
    )
    def me(self, request: Request, slug: str) -> Response:
        contest = _contest(request, slug)
        viewer = _viewer(request)
        k = _int_param(request, "neighbours", 5, low=0, high=MAX_NEIGHBOURS, clamp=True)
        mine = selectors.leaderboard_me(contest=contest, viewer=viewer, neighbours=k)
        body = {
            "rank": mine.rank,
            "score": mine.score,
            "reached_at": _iso(mine.reached_at),
            "count": mine.total,
            "frozen": mine.frozen,
            "neighbours": _rows(mine.neighbours),
        }
        return Response(body)

    @extend_schema(parameters=[VIEW_PARAM], responses=PageSerializer)
    def user(self, request: Request, slug: str, user_id: int) -> Response:
        contest = _contest(request, slug)
        viewer = _viewer(request)
        found = selectors.leaderboard_users(
            contest=contest, viewer=viewer, user_ids=[user_id]
        )
        if not found.rows:
            raise NotFound("This user is not on the leaderboard.", code="not_on_board")
        body = {
            "count": found.total,
            "offset": 0,
            "limit": 1,
            "next_offset": None,
            "frozen": _is_frozen_view(contest, viewer),
            "results": _rows(found.rows),
        }
        return Response(body)


class SubmissionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Submission]):
    """Submit a score; list your own submissions (admins: everyone's)."""

    serializer_class = SubmissionSerializer
    permission_classes = [IsActiveUser]
    may_conflict = True  # not running, attempts used up, key reused
    throttle_classes = [ReadThrottle, SubmissionThrottle]

    def _contest(self) -> Contest:
        return _contest(self.request, self.kwargs["slug"])

    @extend_schema(
        parameters=[OpenApiParameter("user", int, description="Admins only.")]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Submission]:
        contest = self._contest()
        if request_is_admin(self.request):
            raw = self.request.query_params.get("user")
            user_id = (
                _int_param(self.request, "user", 0, low=1, high=10**12, clamp=False)
                if raw
                else None
            )
        else:
            user_id = request_user(self.request).pk
        return selectors.submission_list(contest=contest, user_id=user_id)

    @extend_schema(
        request=SubmitSerializer,
        responses={201: SubmitResponseSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                location=OpenApiParameter.HEADER,
                description="Up to 128 visible ASCII characters; a retry "
                "with the same key returns the first answer.",
            )
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        contest = self._contest()
        serializer = SubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not _IDEMPOTENCY_KEY.match(key):
            raise ValidationError(
                {"Idempotency-Key": ["Use 1 to 128 visible ASCII characters."]},
                code="invalid",
            )
        result = services.submission_create(
            contest=contest,
            user=request_user(request),
            score=serializer.validated_data["score"],
            idempotency_key=key,
            client_ip=_address(request),
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return Response(
            _submit_body(result), status=status.HTTP_201_CREATED, headers=headers
        )


class EntryModerationViewSet(viewsets.ViewSet):
    """Admin moderation of one participant: hide, unhide, adjust the score."""

    permission_classes = [IsAdmin]
    may_conflict = True  # finalized results cannot change
    throttle_classes = [AdminWriteThrottle]

    @extend_schema(request=None, responses={204: None})
    def hide(self, request: Request, slug: str, user_id: int) -> Response:
        return self._set_hidden(request, slug, user_id, hidden=True)

    @extend_schema(request=None, responses={204: None})
    def unhide(self, request: Request, slug: str, user_id: int) -> Response:
        return self._set_hidden(request, slug, user_id, hidden=False)

    @extend_schema(request=AdjustSerializer, responses={201: SubmissionSerializer})
    def adjust(self, request: Request, slug: str, user_id: int) -> Response:
        serializer = AdjustSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = services.entry_adjust(
            contest=_contest(request, slug),
            user_id=user_id,
            delta=serializer.validated_data["delta"],
            reason=serializer.validated_data["reason"],
            actor=request_user(request),
        )
        return Response(
            SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED
        )

    def _set_hidden(
        self, request: Request, slug: str, user_id: int, *, hidden: bool
    ) -> Response:
        """Hide the participant from the public board, or show them again."""
        services.entry_set_hidden(
            contest=_contest(request, slug),
            user_id=user_id,
            hidden=hidden,
            actor=request_user(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
