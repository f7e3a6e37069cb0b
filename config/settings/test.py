"""Test settings: the real services the behaviour depends on (PostgreSQL, Redis), fast hashing.

The test command (make test) exports DATABASE_URL and REDIS_URL; the defaults below are the
services this project's CI machine runs.
"""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("TUBELET_DATA_DIR", tempfile.mkdtemp(prefix="tubelet-test-"))
# Each test run collects static files into its own data folder (parallel runs never clash).
os.environ.setdefault("STATIC_ROOT", os.path.join(os.environ["TUBELET_DATA_DIR"], "static"))
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the queue tests claim from many threads, each with its own connection.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
