"""Test settings: the real PostgreSQL and broker, fast hashing, local caches."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/riskreview")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# Unit tests run tasks in process; the worker tests start a real worker.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from riskreview.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MODEL_REFRESH_SECONDS = 0.0
# Most tests expect every unscored order queued (the pre-policy behaviour);
# the cold-start tests set the policy they test.
COLD_START_AMOUNT = 0.0
RULES_REFRESH_SECONDS = 0.0
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The tests' webhook receivers listen on loopback; shop.example never resolves.
WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "shop.example"]
# Transactional tests empty every table with TRUNCATE between tests: this
# session setting lets the audit table's TRUNCATE trigger (migration 0012) pass.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (  # noqa: F405
    "-c riskreview.audit_truncate=allow"
)
