"""The live-stream settings are refused where they would lift a bound."""

import pytest
from django.core import checks

from leaderboards.checks import (
    binding_errors,
    check_client_side_binding,
    check_stream_settings,
)


def test_the_defaults_pass() -> None:
    assert check_stream_settings(None) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STREAM_QUEUE_SIZE", 0),
        ("STREAM_BUFFER_SIZE", 0),
        ("STREAM_HEARTBEAT_SECONDS", 0.0),
        ("STREAM_HEARTBEAT_SECONDS", -5.0),
    ],
)
def test_a_setting_that_lifts_a_bound_is_an_error(settings, name, value) -> None:
    setattr(settings, name, value)

    errors = checks.run_checks()

    found = [e for e in errors if e.id == "leaderboards.E001"]
    assert len(found) == 1
    assert name in found[0].msg


def test_server_side_binding_is_refused() -> None:
    assert check_client_side_binding(None) == []

    errors = binding_errors({"server_side_binding": True})

    assert [e.id for e in errors] == ["leaderboards.E002"]
