"""Reliability and security suites that cross the apps (issue 7)."""
