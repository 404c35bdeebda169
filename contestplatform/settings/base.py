"""Settings shared by every environment, read from the environment."""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from contestplatform.dbpool import check_pooled_connection

# Lets runtime code subscript generic Django classes (ModelAdmin[User]) the
# way the type stubs describe them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is a convenience for development; real deployments set
# variables in the process environment, which always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 32:
    # Also the default JWT signing key; PyJWT wants 32 bytes for HS256.
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 32 characters.")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "accounts",
    "contests",
    "leaderboards",
    "ratelimit",
]

MIDDLEWARE = [
    "contestplatform.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "contestplatform.urls"
# API paths end in a slash; a missing one answers 404 in the error shape
# rather than a redirect that would drop a POST body.
APPEND_SLASH = False
WSGI_APPLICATION = "contestplatform.wsgi.application"
ASGI_APPLICATION = "contestplatform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- PostgreSQL -----------------------------------------------------------

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/contestplatform"
    )
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int(
    "DATABASE_CONNECT_TIMEOUT", default=3
)
if env.bool("DATABASE_POOL", default=True):
    # Django's native pool (psycopg_pool) requires CONN_MAX_AGE = 0: the pool,
    # not Django, decides how long a connection lives.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=3.0),
        # Without a check, a connection PostgreSQL dropped while it sat
        # idle in the pool fails the request that draws it.
        "check": check_pooled_connection,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis ----------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every key the project writes starts with this prefix (DESIGN.md section 7).
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="cp")
# Short timeouts turn a dead or hung Redis into a quick, handled error
# instead of a worker stuck on a socket.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{REDIS_KEY_PREFIX}:cache",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT,
            "CONNECTION_POOL_KWARGS": {
                "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=50),
                "health_check_interval": 30,
            },
        },
    }
}

# Rows cached in Redis between requests, invalidated by every write to
# them (contestplatform/gencache.py): the authenticated user's role and
# active flag, and contests by slug. Off, each request reads PostgreSQL;
# the switches exist to measure the difference (docs/performance.md).
USER_STATE_CACHE = env.bool("USER_STATE_CACHE", default=True)
CONTEST_CACHE = env.bool("CONTEST_CACHE", default=True)

# --- Rate limiting --------------------------------------------------------
# The ratelimit app (docs/ratelimit.md). Each rate is "<limit>/<window>"
# ("10/10s", "5/min") and can be overridden by RATELIMIT_RATE_<SCOPE>,
# e.g. RATELIMIT_RATE_SUBMISSION=100/1s.

# Off only for benchmarks; the deploy check warns (ratelimit.W001).
RATELIMIT_ENABLED = env.bool("RATELIMIT_ENABLED", default=True)
RATELIMIT_RATES = {
    scope: env.str(f"RATELIMIT_RATE_{scope.upper()}", default=rate)
    for scope, rate in {
        "submission": "10/10s",  # per user
        "login": "5/min",  # per client address and email
        "login_ip": "30/min",  # per client address
        "register": "20/h",  # per client address
        "refresh": "30/min",  # per user (from the refresh token), else address
        "read": "600/min",  # per user or address; fails open
        "admin_write": "120/min",  # per admin
        "user_write": "30/min",  # join, leave, profile: per user
        "stream_connect": "30/min",  # per user or address; fails open
    }.items()
}
# Proxies in front of the app that append to X-Forwarded-For. 0 trusts
# REMOTE_ADDR alone; with N, the client is the N-th entry from the right.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Adds RateLimit and RateLimit-Policy to responses the throttles counted.
MIDDLEWARE = [*MIDDLEWARE, "ratelimit.middleware.RateLimitHeadersMiddleware"]
# --- end of rate limiting -------------------------------------------------

# --- Accounts and authentication ------------------------------------------

AUTH_USER_MODEL = "accounts.User"

# BCryptSHA256 first: it pre-hashes with SHA-256, so passwords longer than
# bcrypt's 72-byte limit are not silently truncated. The others stay listed
# so hashes made by them can still be verified and upgraded on login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email", "display_name"]},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.UserStateJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": (
        "contestplatform.negotiation.ContentNegotiation"
    ),
    "DEFAULT_PARSER_CLASSES": ["contestplatform.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "contestplatform.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "contestplatform.schema.AutoSchema",
    # drf-standardized-errors documents the error responses in the schema
    # only when its own handler function is configured; the project's
    # handler class is plugged in through EXCEPTION_HANDLER_CLASS below.
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        seconds=env.int("JWT_ACCESS_TOKEN_LIFETIME", default=300)
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env.int("JWT_REFRESH_TOKEN_LIFETIME", default=7 * 24 * 3600)
    ),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "LEEWAY": 0,
}

# --- OpenAPI --------------------------------------------------------------

SPECTACULAR_SETTINGS = {
    "TITLE": "contestplatform API",
    "DESCRIPTION": (
        "Contests with real-time leaderboards. Every error answers with one "
        "JSON shape: a `type` and a list of `errors`, each with a machine "
        "`code`, a human `detail` and the `attr` it concerns."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers."
        "ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers."
        "ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers."
        "ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers."
        "ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers."
        "ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers."
        "ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers."
        "ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers."
        "ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers."
        "ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers."
        "ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers."
        "ErrorCode500Enum.choices",
        "UserRoleEnum": "accounts.models.Role.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "contestplatform.schema.open_error_codes",
    ],
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "contestplatform.errors.ExceptionHandler",
    # Unexpected exceptions become the 500 error shape in DEBUG too, so the
    # API never answers with an HTML page.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "409",
        "413",
        "415",
        "429",
        "500",
        "503",
    ],
    "ERROR_SCHEMAS": {
        "409": "contestplatform.schema.ErrorResponse409Serializer",
        "413": "contestplatform.schema.ErrorResponse413Serializer",
        "503": "contestplatform.schema.ErrorResponse503Serializer",
    },
}

# Request bodies above this size are refused before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)

# --- Live streams (leaderboards/stream.py) --------------------------------

# Where the ASGI stream server answers; the WSGI app redirects the stream
# route there. Empty: the route is served by this process (under ASGI).
STREAM_BASE_URL = env.str("STREAM_BASE_URL", default="")
STREAM_HEARTBEAT_SECONDS = env.float("STREAM_HEARTBEAT_SECONDS", default=15.0)
# Events a subscriber may have queued before it counts as too slow.
STREAM_QUEUE_SIZE = env.int("STREAM_QUEUE_SIZE", default=256)
# Recent events kept per contest for clients reconnecting with Last-Event-ID.
STREAM_BUFFER_SIZE = env.int("STREAM_BUFFER_SIZE", default=1000)

# --- Static files, i18n ---------------------------------------------------

STATIC_URL = "static/"
# collectstatic writes here (the Docker image does, at build time); unset,
# files are served from the apps by WhiteNoise's finders.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default="") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage",
    },
}
# Serve static files straight from the apps, so `make run` needs no
# collectstatic step; production images run collectstatic at build time.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging --------------------------------------------------------------

LOG_FORMAT = env.str("LOG_FORMAT", default="kv")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "contestplatform.logging.JSONFormatter"},
        "kv": {"()": "contestplatform.logging.KeyValueFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request middleware writes one line per request; Django's own
        # request and server loggers would repeat it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
    },
}

# --- Security -------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
