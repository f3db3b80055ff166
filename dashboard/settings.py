"""Settings for Labelops, read once from the environment.

SQLite (WAL, busy timeout) with the django-q2 ORM broker by default; PostgreSQL via
DATABASE_URL and Redis via Q_BROKER in production. Safe by default: DEBUG is off unless set, the
secret key comes from the environment or is generated once into the data folder, and HTTPS is
enforced unless the site is only served on loopback names (a local run).
"""

import os
import re
import secrets
import tempfile
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# Files Labelops makes for itself (the generated secret key); keep it out of web roots.
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def generated_secret_key(path: Path) -> str:
    """The key in `path`, made once (0600) if missing. Processes starting together (web and
    worker) agree: the key is written to a temporary file and linked into place, so a reader
    never sees a half-written file and only the first writer wins."""
    if not path.exists():
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
            try:
                with os.fdopen(fd, "w") as handle:  # mkstemp creates it 0600
                    handle.write(secrets.token_urlsafe(50))
                os.link(temporary, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        except OSError as exc:
            raise ImproperlyConfigured(
                f"Set SECRET_KEY in the environment, or let Labelops write {path} ({exc})."
            ) from exc
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no usable secret key: delete it to make one.")
    return key


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or generated_secret_key(DATA_DIR / "secret_key")

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# A site served only on loopback names (the default ALLOWED_HOSTS: `make run`, the tests) is a
# local run over plain HTTP; any other host name is a deployment, where HTTPS is enforced.
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL = env_bool("LABELOPS_LOCAL", set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_q",
    "dashboard",
    "versions",
    "batches",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF (which reads page forms): refuses a large body from its headers alone.
    "dashboard.middleware.RequestBodyGuard",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.events.EventActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dashboard.middleware.NulCharacterMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.ApplicationErrorMiddleware",
    "dashboard.headers.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.roles",
            ],
        },
    }
]

# --- Database: SQLite by default, PostgreSQL (or any dj-database-url URL) from DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE takes the write lock
        # at BEGIN so concurrent writers wait (timeout) instead of failing on lock upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests share the file with a real qcluster process, so the test database is a file too.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
if os.environ.get("TEST_DB_NAME"):
    # Lets two test runs share a machine (e.g. .test-db-b.sqlite3, or test_labelops_b on PG).
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["TEST_DB_NAME"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The sign-in throttle (dashboard.signin) checks every password: page, admin, any other door.
AUTHENTICATION_BACKENDS = ["dashboard.signin.ThrottledModelBackend"]
# Failed sign-ins allowed per account name and per client address in a window; the next ones
# are refused without checking the password until the window ends.
SIGN_IN_WINDOW_SECONDS = int(os.environ.get("SIGN_IN_WINDOW_SECONDS", "900"))
SIGN_IN_FAILURES_PER_ACCOUNT = int(os.environ.get("SIGN_IN_FAILURES_PER_ACCOUNT", "5"))
SIGN_IN_FAILURES_PER_ADDRESS = int(os.environ.get("SIGN_IN_FAILURES_PER_ADDRESS", "20"))
# Reverse proxies in front of the web processes: the client address is then the one they put
# this many places from the end of X-Forwarded-For (0: the connection's own address).
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

# Default: this process's memory. "shared": a table in the database, seen by every web process
# on every host (failed sign-ins must be counted across them); migration 0004 makes the table.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "labelops_cache",
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end libraries come from npm at set-up (package.json) and are served from node_modules.
for _prefix, _dist in [("vendor/htmx", "htmx.org/dist"), ("vendor/chartjs", "chart.js/dist")]:
    if (BASE_DIR / "node_modules" / _dist).is_dir():
        STATICFILES_DIRS.append((_prefix, BASE_DIR / "node_modules" / _dist))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names once `collectstatic` has run (production); before that (a local
    # run, the tests) plain names, which WhiteNoise serves straight from the finders.
    "staticfiles": {"BACKEND": "dashboard.staticfiles.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG or not (STATIC_ROOT / "staticfiles.json").is_file()
if not STATIC_ROOT.is_dir():
    # Nothing collected yet (a local run): WhiteNoise would warn about it at every start.
    warnings.filterwarnings("ignore", message="No directory at: " + re.escape(str(STATIC_ROOT)))
# Files served at the site's root (/favicon.ico, which browsers ask for by themselves).
WHITENOISE_ROOT = BASE_DIR / "public"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# Bulk imports: uploaded files up to this size, written in chunks of this many records.
BULK_MAX_UPLOAD_BYTES = int(os.environ.get("BULK_MAX_UPLOAD_BYTES", str(2 * 1024**3)))
BULK_CHUNK_SIZE = int(os.environ.get("BULK_CHUNK_SIZE", "10000"))
BULK_MAX_RECORD_BYTES = int(os.environ.get("BULK_MAX_RECORD_BYTES", str(16 * 1024**2)))
# A file previewed on a page without JavaScript is kept for its owner (a staged upload), up to
# this size and for this long, so the import starts without choosing it again.
STAGED_UPLOAD_MAX_BYTES = int(os.environ.get("STAGED_UPLOAD_MAX_BYTES", str(50 * 1024**2)))
STAGED_UPLOAD_SECONDS = int(os.environ.get("STAGED_UPLOAD_SECONDS", "3600"))
LABEL_MAX_ANNOTATION_BYTES = int(os.environ.get("LABEL_MAX_ANNOTATION_BYTES", str(1024**2)))

# Bodies up to Django's 2.5 MB from anyone (forms in memory); larger ones only from managers
# (dashboard.middleware.RequestBodyGuard): API JSON up to 64 MB (1,000,000 global keys), file
# uploads (streamed to disk) up to BULK_MAX_UPLOAD_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
API_MAX_JSON_BYTES = 64 * 1024 * 1024

# Hosts the browser may load data rows' images, audio and video from (Content-Security-Policy
# `img-src` / `media-src`); empty = only this server and data: URIs.
MEDIA_SOURCES = os.environ.get("MEDIA_SOURCES", "https: http:")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

# --- Security: production values unless DEBUG or a local run (manage.py check --deploy).
HTTPS_ONLY = not DEBUG and not LOCAL
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS_ONLY)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS_ONLY)
# Production serves HTTPS only; behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS_ONLY else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS_ONLY)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS_ONLY)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API
REST_FRAMEWORK = {
    # Token first: an anonymous API request gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dashboard.roles.RolePermission"],
    # JSON bodies only; upload endpoints add StrictMultiPartParser (a form body elsewhere: 400).
    "DEFAULT_PARSER_CLASSES": ["dashboard.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "dashboard.api.pagination.CursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "dashboard.api.schema.LabelopsAutoSchema",
    "EXCEPTION_HANDLER": "dashboard.api.errors.exception_handler",
    # ?format= names the file format on import/export endpoints, not DRF's renderer.
    "URL_FORMAT_OVERRIDE": None,
    # JSON only; the browsable HTML API (forms, inline script) only when DEBUG is on.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Labelops API",
    "DESCRIPTION": (
        "Datasets in versions, batches, the labeling queue and bulk data. No text (a value, "
        "an object key or a parameter) may hold NUL (U+0000): it is refused with a 400."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # 3.1 (JSON Schema 2020-12): the schema can state what the API refuses — keys a metadata
    # object may not have (propertyNames), exactly one of two fields (if/then/else).
    "OAS_VERSION": "3.1.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "dashboard.api.schema.add_errors_and_paging",
    ],
}

# --- Background jobs (django-q2). Delivery is at least once: timeout < retry so a slow task is
# never handed out twice while it still runs; failures are acknowledged and attempts bounded,
# and every job is resumable from its checkpoint (dashboard.jobs.runner).
JOB_TIMEOUT = int(os.environ.get("JOB_TIMEOUT", "3600"))
# A task whose worker died is handed out again `retry` seconds after it was taken.
# `GET jobs/{id}/?wait=N` requests of one web process that may wait at once (each holds a web
# thread, not a database connection); past them the answer comes at once, with Retry-After.
JOB_WAIT_CONCURRENCY = int(os.environ.get("JOB_WAIT_CONCURRENCY", "4"))
Q_RETRY = int(os.environ.get("Q_RETRY", str(JOB_TIMEOUT + 300)))
if Q_RETRY <= JOB_TIMEOUT:
    raise ImproperlyConfigured("Q_RETRY must be longer than JOB_TIMEOUT, or slow jobs run twice.")
Q_CLUSTER = {
    "name": "labelops",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": JOB_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": int(os.environ.get("Q_MAX_ATTEMPTS", "3")),
    "ack_failures": True,
    "save_limit": 1000,
    "catch_up": False,
    "poll": 0.5,
    "label": "Django Q2",
}
if os.environ.get("Q_BROKER", "").startswith("redis://"):
    Q_CLUSTER["redis"] = os.environ["Q_BROKER"]
else:
    Q_CLUSTER["orm"] = "default"


# Events and webhooks (API.md "Events, audit trail and webhooks").
def env_number(name: str, default: str, kind: type, *, minimum: float, maximum: float):
    """A number from the environment, refused at start-up (naming it) when it is not a number
    of `kind` within [minimum, maximum]: a 0 timeout or 0 attempts would fail every delivery."""
    raw = os.environ.get(name, default)
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value != value or not minimum <= value <= maximum:  # (NaN)
        raise ImproperlyConfigured(
            f"{name} must be {'an integer' if kind is int else 'a number'} from {minimum:g} to "
            f"{maximum:g}; got {raw!r}."
        )
    return value


EVENT_RETENTION_DAYS = env_number("EVENT_RETENTION_DAYS", "365", int, minimum=1, maximum=36500)
# A send task may run WEBHOOK_TIMEOUT + 30 s: within Q_RETRY, or a slow one would run twice.
WEBHOOK_TIMEOUT = env_number("WEBHOOK_TIMEOUT", "10", float, minimum=0.1, maximum=300)
WEBHOOK_RETRY_SECONDS = env_number("WEBHOOK_RETRY_SECONDS", "30", float, minimum=0, maximum=86400)
WEBHOOK_MAX_ATTEMPTS = env_number("WEBHOOK_MAX_ATTEMPTS", "6", int, minimum=1, maximum=100)
# False refuses webhook URLs whose host is (or resolves to) a loopback, private, link-local or
# otherwise non-public address, when they are registered and again at each send (SSRF). True
# by default: a self-hosted Labelops often posts to services on its own network.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
