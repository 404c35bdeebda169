"""Rebuild live boards from PostgreSQL, or compare them with it."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contests.models import Contest
from leaderboards import board, services
from leaderboards.models import Entry


class Command(BaseCommand):
    help = (
        "Rebuild the Redis boards of the given contests (default: every "
        "contest whose board is still live); --verify compares instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="Contest slugs.")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Compare Redis with PostgreSQL entry by entry; fail on a difference.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        contests = self._contests(options["slugs"])
        differences = 0
        for contest in contests:
            if options["verify"]:
                differences += self._verify(contest)
            elif services.board_rebuild(contest=contest):
                self.stdout.write(f"rebuilt {contest.slug}")
            else:
                self.stdout.write(
                    f"skipped {contest.slug}: not live, or a rebuild is running"
                )
        if differences:
            raise CommandError(
                f"{differences} difference(s) between Redis and PostgreSQL"
            )

    def _contests(self, slugs: list[str]) -> list[Contest]:
        if not slugs:
            return [c for c in Contest.objects.all() if services.board_is_live(c)]
        found = {c.slug: c for c in Contest.objects.filter(slug__in=slugs)}
        missing = sorted(set(slugs) - set(found))
        if missing:
            raise CommandError(f"no contest with slug: {', '.join(missing)}")
        return [found[slug] for slug in slugs]

    def _verify(self, contest: Contest) -> int:
        if not board.is_built(contest):
            entries = Entry.objects.filter(contest=contest).count()
            live = services.board_is_live(contest)
            self.stdout.write(f"{contest.slug}: no board in Redis ({entries} entries)")
            # A board is built on first use; one that should hold entries
            # and does not is a difference.
            return 1 if live and entries else 0
        in_redis = board.board_snapshot(contest)
        in_db = {
            user_id: (score, reached_at, hidden)
            for user_id, score, reached_at, hidden in Entry.objects.filter(
                contest=contest
            ).values_list("user_id", "score", "reached_at", "hidden")
        }
        differences = 0
        for user_id in sorted(set(in_redis) | set(in_db)):
            want, have = in_db.get(user_id), in_redis.get(user_id)
            if want != have:
                differences += 1
                self.stdout.write(
                    f"{contest.slug}: user {user_id}: postgres={want} redis={have}"
                )
        self.stdout.write(
            f"{contest.slug}: {len(in_db)} entries, {differences} difference(s)"
        )
        return differences
