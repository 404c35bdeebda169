"""Views the tests throttle, beside the real URLconf."""

from django.urls import path
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contestplatform.urls import urlpatterns as real_urlpatterns
from ratelimit.throttles import ReadThrottle, RedisThrottle, SubmissionThrottle

BURST_RATE = "5/min"


class BurstThrottle(RedisThrottle):
    """Anonymous, per address, fail closed: 5 per minute (``BURST_RATE``)."""

    scope = "test_burst"


class BurstView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [BurstThrottle]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class SubmitView(APIView):
    """Stands in for the submissions endpoint until it exists."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [ReadThrottle, SubmissionThrottle]

    def get(self, request: Request) -> Response:
        return Response([])

    def post(self, request: Request) -> Response:
        return Response({"accepted": True}, status=201)


class ReadView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ReadThrottle]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/test/burst/", BurstView.as_view()),
    path("api/v1/test/submit/", SubmitView.as_view()),
    path("api/v1/test/read/", ReadView.as_view()),
    *real_urlpatterns,
]
