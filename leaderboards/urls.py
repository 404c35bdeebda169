"""Leaderboard routes, included under /api/v1/contests/<slug>/."""

from django.urls import path

from leaderboards import views

app_name = "leaderboards"

leaderboard = views.LeaderboardViewSet
submissions = views.SubmissionViewSet
moderation = views.EntryModerationViewSet

urlpatterns = [
    path(
        "submissions/",
        submissions.as_view({"get": "list", "post": "create"}),
        name="submission-list",
    ),
    path(
        "leaderboard/",
        leaderboard.as_view({"get": "list"}),
        name="leaderboard",
    ),
    path(
        "leaderboard/me/",
        leaderboard.as_view({"get": "me"}),
        name="leaderboard-me",
    ),
    path(
        "leaderboard/stream/",
        leaderboard.as_view({"get": "stream"}),
        name="leaderboard-stream",
    ),
    path(
        "leaderboard/users/<int:user_id>/",
        leaderboard.as_view({"get": "user"}),
        name="leaderboard-user",
    ),
    path(
        "entries/<int:user_id>/hide/",
        moderation.as_view({"post": "hide"}),
        name="entry-hide",
    ),
    path(
        "entries/<int:user_id>/unhide/",
        moderation.as_view({"post": "unhide"}),
        name="entry-unhide",
    ),
    path(
        "entries/<int:user_id>/adjust/",
        moderation.as_view({"post": "adjust"}),
        name="entry-adjust",
    ),
]
