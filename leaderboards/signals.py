"""Keep display names on the live boards in step with the accounts."""

import logging
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.models import User
from contests.models import Contest
from contests.signals import contest_cancelled

from . import board
from .models import Entry

logger = logging.getLogger(__name__)


@receiver(contest_cancelled, dispatch_uid="leaderboards_cancelled")
def close_streams(sender: type[Contest], contest: Contest, **kwargs: Any) -> None:
    from .services import publish_quietly

    publish_quietly(contest, {"type": "cancelled"})


@receiver(post_save, sender=User, dispatch_uid="leaderboards_rename")
def rename_on_boards(sender: type[User], instance: User, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if kwargs.get("created") or (fields is not None and "display_name" not in fields):
        return
    # One query over the user's entries whose boards may still be in Redis.
    contest_ids = list(
        Entry.objects.filter(
            user=instance,
            contest__finalized_at__isnull=True,
            contest__ends_at__gt=timezone.now() - board.MAX_RETENTION,
        ).values_list("contest_id", flat=True)
    )
    if not contest_ids:
        return
    try:
        board.set_name(
            contest_ids, user_id=instance.pk, display_name=instance.display_name
        )
    except RedisError:
        # The next rebuild of those boards reads the new name from PostgreSQL.
        logger.warning(
            "could not update a display name on the boards",
            extra={"user_id": instance.pk},
            exc_info=True,
        )
