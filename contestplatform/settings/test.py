"""Test settings: real PostgreSQL and Redis, a fast password hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-insecure-key-" + "x" * 64)
os.environ.setdefault("DJANGO_DEBUG", "false")

from .base import *

# bcrypt is slow on purpose; tests hash hundreds of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING["root"] = {
    "handlers": ["console"],
    "level": os.environ.get("LOG_LEVEL", "WARNING"),
}
