"""The RateLimit field values, as Structured Fields."""

import pytest

from ratelimit.headers import header_fields
from ratelimit.limiter import Decision
from ratelimit.rates import Rate


def _decision(scope: str, remaining: int = 3, reset: float = 0.2) -> Decision:
    return Decision(
        scope=scope,
        rate=Rate(limit=10, period=10),
        allowed=True,
        remaining=remaining,
        reset=reset,
    )


def test_it_lists_one_item_per_scope() -> None:
    fields = header_fields([_decision("a"), _decision("b", remaining=0, reset=7.01)])

    assert fields == {
        "RateLimit-Policy": '"a";q=10;w=10, "b";q=10;w=10',
        "RateLimit": '"a";r=3;t=1, "b";r=0;t=8',
    }


def test_it_sends_nothing_when_nothing_was_counted() -> None:
    assert header_fields([]) == {}


def test_it_escapes_a_scope_name_as_a_structured_field_string() -> None:
    fields = header_fields([_decision('odd"name\\')])

    assert fields["RateLimit-Policy"].startswith('"odd\\"name\\\\";')


def test_it_refuses_a_scope_name_that_is_not_printable_ascii() -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        header_fields([_decision("naïve")])
