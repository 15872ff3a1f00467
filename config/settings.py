"""Vigil settings, all from environment variables with safe embedded defaults.

Embedded (nothing set): SQLite file, a filesystem Celery broker, DEBUG on.
Production: set DEBUG=0, SECRET_KEY, DATABASE_URL, REDIS_URL, ALLOWED_HOSTS;
the process refuses to start without a SECRET_KEY when DEBUG is off.
"""

import json
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "django-insecure-vigil-embedded-development-key-not-for-production-use"  # noqa: S105 — DEBUG only
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Empty: pages and the API show URLs under the address the reader reached Vigil at (the request's).
SITE_URL = env_str("SITE_URL", "").rstrip("/")

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
    "drf_spectacular_sidecar",  # Swagger UI served from Vigil itself, not a CDN
    "simple_history",
    "django_celery_beat",
    "django_htmx",
    "axes",
    # Vigil, lowest layer first (ARCHITECTURE.md: each app imports only those above it here).
    "core",
    "oncall",
    "incidents",
    "alerts",
    "paging",
    "comms",
    "postmortems",
    "chat",
    "reporting",
    "importers",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.RequireContentLength",
    "config.middleware.RefuseUnstorableText",
    "config.observability.RequestLatencyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.ReaderTimeZone",  # pages in the reader's own zone (User.timezone)
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.ExplainMethodNotAllowed",  # a page, not a blank 405, for a GET of a form's URL
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out login with the lockout page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
    # busy timeout instead of failing with "database is locked" mid-transaction.
    # WAL: readers never block a writer's COMMIT (with the default rollback journal,
    # a COMMIT waiting on readers under load failed with "database is locked", a 500).
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20,
                                       "init_command": "PRAGMA journal_mode=WAL;"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "oncall.User"
# django-axes first: it refuses a login attempt for a locked-out account or address
# before any password is checked (the web login and the admin's; API tokens are not passwords).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After LOGIN_FAILURE_LIMIT wrong passwords for one account, or from one address, further
# attempts for it are refused (429) for LOGIN_LOCKOUT_MINUTES; staff see and lift lockouts
# in the admin (Axes → Access attempts) or with `manage.py axes_reset`.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Content-Security-Policy (django-csp) --------------------------------------
# Every script and style comes from Vigil itself: no third-party origin, no inline
# script (htmx is vendored in static/js, Swagger UI comes from drf-spectacular-sidecar,
# and its start-up script is a separate file). Inline *styles* stay allowed: the Django
# admin and Swagger UI set style attributes, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Email ----------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if not env_str("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Vigil <vigil@localhost>")

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # Per user (token or session) and per address for anonymous callers; over it: 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["config.throttles.AnonThrottle", "config.throttles.UserThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigil API",
    "DESCRIPTION": "Incident management: incidents, alerts, on-call, escalation, postmortems, reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # core.ids.IdConverter (<id:pk>): a positive integer of at most 18 digits.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 999999999999999999}},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get components of their own, so they can say what a response need not
    # (a title may not be blank); and they are documented as JSON, which API.md promises
    # (the form parsers stay for the browser, but a form cannot carry null or nesting).
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a field called "kind": name the enums after what they list.
    "ENUM_NAME_OVERRIDES": {
        "ContactMethodKindEnum": "paging.models.ContactMethod.Kind",
        "IntegrationKindEnum": "alerts.models.IntegrationKind",
        "NotificationKindEnum": "paging.models.Notification.Kind",
        "PostmortemStatusEnum": "postmortems.models.PostmortemStatus",
        "ActionItemStatusEnum": "postmortems.models.ActionItemStatus",
        "PostmortemTransitionEnum": "postmortems.models.postmortem.TRANSITIONS",
    },
    "PARSER_WHITELIST": ["config.parsers.JSONParser"],
    # The errors every operation can answer (config.schema), then the ingest endpoints: plain
    # Django views with the foreign formats' own shapes and errors.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
        "alerts.api.schema.add_ingest_paths",
    ],
}

# --- Celery ---------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_DIR = Path(env_str("CELERY_BROKER_DIR", str(BASE_DIR / ".broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Tasks are acknowledged late: one a worker held when it died goes back to the queue after
    # this long (a worker re-queues such tasks when it starts, and about every 100 s). The paging
    # sweep does not wait for that: it advances and delivers whatever is due every few seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 3600, minimum=1),
    }
else:
    # Embedded: kombu's filesystem transport needs no server; worker and beat
    # exchange messages through files in .broker/.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),  # kombu's default is ./control
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep a worker's database connection across tasks (opening one per task cost more than a page);
# config.celery drops it when it broke or grew older than CONN_MAX_AGE (close_old_connections).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "heartbeats-check": {"task": "alerts.tasks.check_heartbeats",
                         "schedule": timedelta(seconds=env_int("HEARTBEAT_CHECK_SECONDS", 30, minimum=1))},
    "oncall-handoffs": {"task": "oncall.tasks.notify_handoffs", "schedule": timedelta(seconds=60)},
    "oncall-shift-reminders": {"task": "oncall.tasks.remind_upcoming_shifts", "schedule": timedelta(minutes=5)},
    "comms-update-reminders": {"task": "comms.tasks.remind_updates", "schedule": timedelta(seconds=60)},
    # Each person's digest goes out once, in their 08:00 hour: four chances an hour (postmortems README).
    "postmortems-reminders": {"task": "postmortems.tasks.send_reminders", "schedule": timedelta(minutes=15)},
}

# --- Cache ----------------------------------------------------------------
# Counts that must hold across processes (the ingest rate limit, alerts.ratelimit; API
# throttles) live here: in Redis with REDIS_URL, whose add and incr are atomic on the
# server; otherwise in each process's memory (the embedded run is one process).
if REDIS_URL:
    CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
        # An unreachable Redis fails fast; the rate limit then lets events through.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Vigil ----------------------------------------------------------------
# History change reasons are text, not simple-history's 100 characters: a reason lists
# what changed (e.g. every participant of a rotation) and must never make a change fail.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# On-call: how long before a shift its person is e-mailed a reminder, and the hours per layer
# per month above which the load report flags a person (168: one week).
ONCALL_SHIFT_REMINDER_HOURS = env_float("ONCALL_SHIFT_REMINDER_HOURS", 24, minimum=0)
ONCALL_MONTHLY_LOAD_LIMIT_HOURS = env_float("ONCALL_MONTHLY_LOAD_LIMIT_HOURS", 168, minimum=1)
# DRF throttle rates ("<requests>/<second|minute|hour|day>"), read by config.api's throttles.
API_THROTTLE_ANON = env_str("API_THROTTLE_ANON", "120/minute")
API_THROTTLE_USER = env_str("API_THROTTLE_USER", "3000/minute")
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Scrapers whose address (the direct peer, REMOTE_ADDR) is in one of these may read /metrics without the token.
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Webhook and heartbeat keys are in URL paths: no log line Vigil writes shows one (config.redact).
    "filters": {"redact_keys": {"()": "config.redact.RedactKeys"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_keys"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request log (404s, 400s, 500s) and runserver's access log name the path.
        "django.request": {"filters": ["redact_keys"]},
        "django.server": {"filters": ["redact_keys"]},
    },
}

# --- Production hardening (manage.py check --deploy is clean with DEBUG=0) --
# X-Forwarded-Proto (and the client address in X-Forwarded-For) say what a proxy saw; a client
# talking to Vigil directly can send them too. Trusted only when an operator says a proxy sets them.
TRUSTED_PROXY_HEADERS = env_bool("TRUSTED_PROXY_HEADERS", False)
if TRUSTED_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
AXES_CLIENT_IP_CALLABLE = "config.proxy.client_ip"

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"

# --- Paging (paging app) ---------------------------------------------------------
# The sweep advances due escalations and delivers due messages a lost task left behind.
PAGING_SWEEP_SECONDS = env_int("PAGING_SWEEP_SECONDS", 5, minimum=1)
# How long a page's one-click acknowledge link, and its SMS reply code, keep working.
PAGING_ACK_LINK_HOURS = env_int("PAGING_ACK_LINK_HOURS", 24, minimum=1)
# A delivery owns its message for this long while it sends; a worker that dies mid-send leaves it to
# the sweep after that. Keep it above the slowest send (about 2 × PAGING_HTTP_TIMEOUT_SECONDS per
# SMS provider), or a slow send may be sent again.
PAGING_DELIVERY_LEASE_SECONDS = env_int("PAGING_DELIVERY_LEASE_SECONDS", 30, minimum=5)
# A failed attempt is tried again after 10 s, 20 s, 40 s, … until PAGING_MAX_ATTEMPTS attempts in all.
PAGING_RETRY_BASE_SECONDS = env_int("PAGING_RETRY_BASE_SECONDS", 10, minimum=1)
PAGING_MAX_ATTEMPTS = env_int("PAGING_MAX_ATTEMPTS", 5, minimum=1)
# Each network call of a channel (Slack, webhooks, SMS and voice providers; SMTP too when
# EMAIL_TIMEOUT is not set) gives up after this many seconds of silence, and the attempt is retried.
PAGING_HTTP_TIMEOUT_SECONDS = env_float("PAGING_HTTP_TIMEOUT_SECONDS", 10, minimum=0.1)
# Slack: a bot token (xoxb-…, scope chat:write) for contact methods naming a member id (U…/W…);
# incoming-webhook URLs need nothing here. SLACK_API_URL is for a proxy or a test server.
SLACK_BOT_TOKEN = env_str("SLACK_BOT_TOKEN", "")
SLACK_API_URL = env_str("SLACK_API_URL", "https://slack.com/api").rstrip("/")
SLACK_SIGNING_SECRET = env_str("SLACK_SIGNING_SECRET", "")  # the Slack app's signing secret: /api/v1/chat/slack/ (chat app)


def _sms_providers() -> list[dict]:
    """Twilio-compatible SMS and voice providers, tried in this order (paging.channels.sms).

    PAGING_SMS_PROVIDERS is a JSON list of {name, base_url, account_sid, auth_token, from};
    TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM, when set, add Twilio itself last.
    """
    raw = env_str("PAGING_SMS_PROVIDERS", "[]")
    try:
        providers = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"PAGING_SMS_PROVIDERS is not JSON ({exc}); give a list of "
                                   '{"name", "base_url", "account_sid", "auth_token", "from"} objects') from None
    if not isinstance(providers, list):
        raise ImproperlyConfigured("PAGING_SMS_PROVIDERS must be a JSON list of provider objects")
    twilio = [env_str(name) for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")]
    if any(twilio):
        if not all(twilio):
            raise ImproperlyConfigured("Set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM, or none")
        providers.append({"name": "twilio", "base_url": "https://api.twilio.com", "account_sid": twilio[0],
                          "auth_token": twilio[1], "from": twilio[2]})
    keys = ("name", "base_url", "account_sid", "auth_token", "from")
    for index, provider in enumerate(providers):
        if not isinstance(provider, dict) or not all(isinstance(provider.get(k), str) and provider[k] for k in keys):
            raise ImproperlyConfigured(f"PAGING_SMS_PROVIDERS[{index}] needs non-empty strings {', '.join(keys)}")
        if not provider["base_url"].startswith(("https://", "http://")):
            raise ImproperlyConfigured(f"PAGING_SMS_PROVIDERS[{index}].base_url must start with https://")
        if not (provider["from"].startswith("+") and provider["from"][1:].isdigit()):
            raise ImproperlyConfigured(f"PAGING_SMS_PROVIDERS[{index}].from must be an E.164 number (+ and digits)")
    names = [p["name"] for p in providers]
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"PAGING_SMS_PROVIDERS: each provider needs its own name (got {names})")
    return [{k: p[k].rstrip("/") if k == "base_url" else p[k] for k in keys} for p in providers]


PAGING_SMS_PROVIDERS = _sms_providers()
# httpx logs each request's URL at INFO; a Slack incoming-webhook URL is a secret, so only its warnings.
LOGGING["loggers"]["httpx"] = {"level": "WARNING"}
CELERY_BEAT_SCHEDULE["paging-sweep"] = {"task": "paging.tasks.sweep",
                                        "schedule": timedelta(seconds=PAGING_SWEEP_SECONDS)}
