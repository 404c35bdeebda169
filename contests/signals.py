"""Signals other apps may act on, so contests need not know them."""

from django.dispatch import Signal

# Sent after a contest's cancellation commits; ``contest`` is the contest.
contest_cancelled = Signal()
