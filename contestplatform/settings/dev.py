"""Local development: `make run` and `manage.py` use these by default."""

import os

# A fixed key is fine on a developer's machine and nowhere else; production
# settings have no default at all.
os.environ.setdefault("DJANGO_SECRET_KEY", "dev-only-insecure-key-" + "x" * 64)
os.environ.setdefault("DJANGO_DEBUG", "true")

from .base import *
