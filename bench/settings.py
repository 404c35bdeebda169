"""Settings of the benchmark server: production settings plus the floor URL.

``make bench`` serves the app with these, so every scenario runs the
production middleware, DEBUG off, real PostgreSQL and Redis. The one
difference is the URL root, which adds the floor view; production's URL
root never has it.
"""

from contestplatform.settings.production import *

ROOT_URLCONF = "bench.urls"
