"""One settings module, driven by the environment (see README, "Configuration")."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from riskreview.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=False)
# A local run (`make run`) keeps a generated key in var/secret_key, so every
# `manage.py` command pasted into a shell afterwards signs with the same key.
# A deployment sets SECRET_KEY; with neither, DEBUG off refuses to start.
_SECRET_KEY_FILE = VAR_DIR / "secret_key"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY and _SECRET_KEY_FILE.is_file():
    SECRET_KEY = _SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set when DEBUG is off (or {_SECRET_KEY_FILE} "
            "must exist: `make run` creates it)"
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "tenants",
    "cases",
    "models_ml",
    "rules",
    "dashboard",
    "lab",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "riskreview.security.ChunkedBodyRefusedMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "riskreview.security.SecurityHeadersMiddleware",
    # Last, as django-axes asks: turns its lockout signal into the 429 page.
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "riskreview.urls"
WSGI_APPLICATION = "riskreview.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web, worker and beat processes share the embedded database.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
# Idle sessions end after this many minutes without a request.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
# Sign-in throttle (django-axes) for every login form, the admin's included:
# LOGIN_THROTTLE_FAILURES failures for one (normalised username, client IP)
# lock that pair, and only that pair, for LOGIN_THROTTLE_MINUTES
# (cases/web/auth.py).
LOGIN_THROTTLE_FAILURES = env_int("LOGIN_THROTTLE_FAILURES", 5)
LOGIN_THROTTLE_MINUTES = env_int("LOGIN_THROTTLE_MINUTES", 15)
AXES_FAILURE_LIMIT = LOGIN_THROTTLE_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_THROTTLE_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "cases.web.auth.login_username"
AXES_CLIENT_IP_CALLABLE = "cases.web.auth.login_client_ip"
AXES_LOCKOUT_CALLABLE = "cases.web.auth.login_locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # successes are in the audit trail
AXES_VERBOSE = False
# Lockouts end by themselves; `manage.py axes_reset_username NAME` ends one early.
AXES_ENABLE_ADMIN = False
# Behind the proxy of docker-compose.yml, the client's address is the one nginx
# writes into X-Forwarded-For (it overwrites what the client sent). Only turn
# this on when gunicorn is reachable through that proxy alone.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", default=False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Bodies above this size are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 2_500_000)
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 20)
API_MAX_BATCH = env_int("API_MAX_BATCH", 1000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cases.api.authentication.ApiTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["cases.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cases.exception_handlers.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["cases.api.throttling.ApiClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_client": env_str("API_RATE_LIMIT", "20000/min")},
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "riskreview API",
    "DESCRIPTION": "Order intake, risk scores with reasons, cases and outcomes.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Assets ship with the app (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cases.api.openapi.add_error_responses",
    ],
    # One name per choice set: list kinds and the kinds of a decision's rule reasons.
    "ENUM_NAME_OVERRIDES": {
        "ListKindEnum": ["block", "allow"],
        "RuleReasonKindEnum": ["rule", "list"],
    },
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "cases.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}

# Celery: an embedded SQLite broker by default, Redis or RabbitMQ when configured.
CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 1800)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1900)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Each kind of work has its own queue and its own worker process (Procfile,
# docker-compose.yml), so a hung webhook receiver or a long training never
# delays another kind of work.
CELERY_QUEUES_ALL = ["webhooks", "training", "scoring", "housekeeping"]
CELERY_TASK_DEFAULT_QUEUE = "housekeeping"
CELERY_TASK_ROUTES = {
    "cases.tasks.webhook_deliver": {"queue": "webhooks"},
    "models_ml.tasks.*": {"queue": "training"},  # the training tasks' names
    "cases.tasks.cases_rescore": {"queue": "scoring"},
    "cases.tasks.orders_rescore": {"queue": "scoring"},
}
# The longest task's hard limit (a training, cases/tasks.py model_train).
CELERY_LONGEST_TASK_SECONDS = 3300
# Redis/SQS redeliver an unacknowledged task after this many seconds: it must
# exceed the longest task, or the task would run twice at once; it is not much
# longer, so the task of a worker killed outright comes back within the hour
# (its abandoned training row is failed as soon as a worker starts).
CELERY_VISIBILITY_TIMEOUT = env_int(
    "CELERY_VISIBILITY_TIMEOUT", CELERY_LONGEST_TASK_SECONDS + 300
)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
    }
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else {}
)

# Risk decisions. Scores are fraud probabilities in [0, 1].
RISK_REVIEW_THRESHOLD = env_float("RISK_REVIEW_THRESHOLD", 0.3)
RISK_DECLINE_THRESHOLD = env_float("RISK_DECLINE_THRESHOLD", 0.9)
RISK_TOP_REASONS = env_int("RISK_TOP_REASONS", 5)
if not 0 <= RISK_REVIEW_THRESHOLD <= RISK_DECLINE_THRESHOLD <= 1:
    raise ImproperlyConfigured("need 0 <= RISK_REVIEW_THRESHOLD <= DECLINE <= 1")

MODEL_DIR = Path(env_str("MODEL_DIR", str(VAR_DIR / "models")))
# Seconds a process keeps the active model before asking the database again.
MODEL_REFRESH_SECONDS = env_float("MODEL_REFRESH_SECONDS", 5.0)
# How long a process uses its copy of a tenant's active rules before reading
# them again (a rule saved in this process is seen at once).
RULES_REFRESH_SECONDS = env_float("RULES_REFRESH_SECONDS", 5.0)
TRAINING_THREADS = env_int("TRAINING_THREADS", 1)

LOG_REDACT_PII = env_bool("LOG_REDACT_PII", default=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_pii": {"()": "riskreview.security.RedactPIIFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_pii"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Production behind TLS: HTTPS_ONLY=true turns on HSTS, the redirect and secure
# cookies. Off by default so `make run` works on http://127.0.0.1.
HTTPS_ONLY = env_bool("HTTPS_ONLY", default=False)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
if env_bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("CACHE_URL"),
        }
        if env_str("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# The holdout metric a challenger must match or beat to be promoted.
MODEL_PRIMARY_METRIC = env_str("MODEL_PRIMARY_METRIC", "ap")
if MODEL_PRIMARY_METRIC not in {"ap", "auc", "p_at_k"}:
    raise ImproperlyConfigured("MODEL_PRIMARY_METRIC must be ap, auc or p_at_k")

# Review workbench.
CASE_LEASE_MINUTES = env_int("CASE_LEASE_MINUTES", 15)
# A skipped case stays out of that reviewer's "next case" this long (a shift).
CASE_SKIP_MINUTES = env_int("CASE_SKIP_MINUTES", 480)
# A reviewer may take back her decision this many seconds after making it.
DECISION_UNDO_SECONDS = env_int("DECISION_UNDO_SECONDS", 10)
QA_SHARE = env_float("QA_SHARE", 0.05)
QUEUE_PAGE_SIZE = env_int("QUEUE_PAGE_SIZE", 50)

# Retraining: nightly, and as soon as enough new labels have arrived.
RETRAIN_MIN_NEW_LABELS = env_int("RETRAIN_MIN_NEW_LABELS", 500)
RETRAIN_CHECK_MINUTES = env_int("RETRAIN_CHECK_MINUTES", 10)
RETRAIN_NIGHTLY_HOUR = env_int("RETRAIN_NIGHTLY_HOUR", 2)
# A gated training fits on the labelled orders of the newest this many days of
# order time (0: every labelled order); the gate's sample is compared whatever
# its age.
TRAINING_WINDOW_DAYS = env_int("TRAINING_WINDOW_DAYS", 0)
# Queue mix: shares of the queue for uncertain (exploration) and random (audit) cases.
QUEUE_EXPLORATION_SHARE = env_float("QUEUE_EXPLORATION_SHARE", 0.10)
QUEUE_AUDIT_SHARE = env_float("QUEUE_AUDIT_SHARE", 0.05)
QUEUE_MIX_MINUTES = env_int("QUEUE_MIX_MINUTES", 15)
if QUEUE_EXPLORATION_SHARE + QUEUE_AUDIT_SHARE >= 1:
    raise ImproperlyConfigured("exploration + audit shares must be below 1")
# Decision webhooks.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_BASE_SECONDS = env_float("WEBHOOK_RETRY_BASE_SECONDS", 30.0)
WEBHOOK_RETRY_MAX_SECONDS = env_float("WEBHOOK_RETRY_MAX_SECONDS", 3600.0)
# The whole exchange with a receiver (connect, send, first line of the answer).
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
# Receivers are never sent to at loopback, private, link-local (metadata),
# multicast or reserved addresses, except on the hosts listed here (an
# on-premises receiver, e.g. WEBHOOK_ALLOWED_HOSTS=hooks.corp.internal).
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS")
# Retention: orders older than this many days are deleted with their features
# (0 keeps everything); their labels can be kept as daily aggregates.
RETENTION_DAYS = env_int("RETENTION_DAYS", 0)
RETENTION_KEEP_LABEL_STATS = env_bool("RETENTION_KEEP_LABEL_STATS", default=True)
# The learning loop (issue 12). The promotion gate compares models on held-out
# audit cases (1/π) or a fully labelled matured window, with at least this many
# cases and frauds; an approved, undisputed order becomes a `matured`
# legitimate label after RISK_MATURITY_DAYS; before a tenant's first model,
# cases open for amounts from COLD_START_AMOUNT and a COLD_START_AUDIT_SHARE
# random audit (0 and 1.0 = every order, as before).
GATE_MIN_CASES = env_int("GATE_MIN_CASES", 200)
GATE_MIN_FRAUDS = env_int("GATE_MIN_FRAUDS", 10)
RISK_MATURITY_DAYS = env_int("RISK_MATURITY_DAYS", 30)
COLD_START_AMOUNT = env_float("COLD_START_AMOUNT", 500.0)
COLD_START_AUDIT_SHARE = env_float("COLD_START_AUDIT_SHARE", 0.2)
LINKED_RESCORE_LIMIT = env_int("LINKED_RESCORE_LIMIT", 500)
