"""Contests in any state, with times relative to the moment they are built.

``ContestFactory()`` is a published contest that is running now; a trait
named after a state gives a contest in that state instead, e.g.
``ContestFactory(frozen=True)`` or ``ContestFactory(**{state: True})``.
"""

from datetime import timedelta

import factory
from django.utils import timezone
from factory.declarations import LazyAttribute

from contests.models import Contest, Participation

HOUR = timedelta(hours=1)


def from_now(offset: timedelta) -> LazyAttribute:
    """Declare a time ``offset`` from the moment the contest is built."""
    return LazyAttribute(lambda o: o.now + offset)


class ContestFactory(factory.django.DjangoModelFactory[Contest]):
    class Meta:
        model = Contest

    class Params:
        # Every time below is relative to this one reading of the clock.
        now = factory.LazyFunction(timezone.now)
        draft = factory.Trait(published_at=None)
        scheduled = factory.Trait(starts_at=from_now(HOUR), ends_at=from_now(3 * HOUR))
        running = factory.Trait()
        frozen = factory.Trait(freeze_at=from_now(-HOUR / 2))
        ended = factory.Trait(starts_at=from_now(-3 * HOUR), ends_at=from_now(-HOUR))
        finalized = factory.Trait(
            starts_at=from_now(-3 * HOUR),
            ends_at=from_now(-HOUR),
            finalized_at=from_now(-HOUR / 2),
        )
        cancelled = factory.Trait(cancelled_at=from_now(-HOUR / 2))

    slug = factory.Sequence(lambda n: f"contest-{n}")
    title = factory.Sequence(lambda n: f"Contest {n}")
    description = "A contest made by a test."
    starts_at = from_now(-HOUR)
    ends_at = from_now(HOUR)
    published_at = from_now(-2 * HOUR)


class ParticipationFactory(factory.django.DjangoModelFactory[Participation]):
    class Meta:
        model = Participation

    contest = factory.SubFactory(ContestFactory)
    user = factory.SubFactory("accounts.tests.factories.UserFactory")
