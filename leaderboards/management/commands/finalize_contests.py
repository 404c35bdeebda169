"""Finalize every ended contest; safe to run from cron, and to run twice."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from contests.models import Contest
from leaderboards.services import contest_finalize


class Command(BaseCommand):
    help = "Write the final standings of every contest that has ended."

    def handle(self, *args: Any, **options: Any) -> None:
        ended = Contest.objects.filter(
            published_at__isnull=False,
            cancelled_at__isnull=True,
            finalized_at__isnull=True,
            ends_at__lte=timezone.now(),
        ).order_by("ends_at")
        count = 0
        for contest in ended:
            contest_finalize(contest=contest)
            count += 1
            self.stdout.write(f"finalized {contest.slug}")
        self.stdout.write(f"{count} contest(s) finalized")
