"""Settings, read only from the environment (see deploy/CONFIG.md for every variable).

With nothing set, Tubelet runs on its embedded default: SQLite, local files under one data folder,
a broker that needs no server (Celery's filesystem transport) and the CPU tracker.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("TUBELET_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    # Embedded default: one random key per data folder, so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12, minimum=60)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "annotation",
    "tracking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# --- database ------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj_database_url raises bare ValueError/KeyError on bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if _db["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:// URL")
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "tubelet.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two claimers can never read the same open task
    # and both commit a lease; WAL lets readers continue while one writer holds the lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: broker, cache (progress, interactive session registry) -------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")

CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "tubelet"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        }
    }

# --- celery --------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest task time limit, so a slow task is not redelivered while it runs.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600, minimum=60),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "media"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- storage -------------------------------------------------------------------------------------
S3_BUCKET = env_str("S3_BUCKET")
S3_REGION = env_str("S3_REGION")
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL")
# Signs the URLs handed to browsers when they reach the store under another host than the servers.
S3_PUBLIC_ENDPOINT_URL = env_str("S3_PUBLIC_ENDPOINT_URL")
S3_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID") or env_str("AWS_ACCESS_KEY_ID")
S3_SECRET_ACCESS_KEY = env_str("S3_SECRET_ACCESS_KEY") or env_str("AWS_SECRET_ACCESS_KEY")
SIGNED_URL_TTL = env_int("SIGNED_URL_TTL", 3600, minimum=60)
MEDIA_ROOT = str(DATA_DIR / "media")
if S3_BUCKET:
    STORAGE_BACKEND = "s3"
    _s3_options = {
        "bucket_name": S3_BUCKET,
        "region_name": S3_REGION or None,
        "endpoint_url": S3_ENDPOINT_URL or None,
        "access_key": S3_ACCESS_KEY_ID or None,
        "secret_key": S3_SECRET_ACCESS_KEY or None,
        "location": env_str("S3_PREFIX", ""),
        "querystring_auth": True,
        "querystring_expire": SIGNED_URL_TTL,
        "file_overwrite": True,
        "default_acl": None,
        "addressing_style": env_choice("S3_ADDRESSING_STYLE", ["auto", "path", "virtual"], "auto"),
        # AWS refuses the legacy Version 2 signatures on buckets made after June 2020
        "signature_version": "s3v4",
    }
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
else:
    STORAGE_BACKEND = "local"
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "allow_overwrite": True},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 4 * 1024**3, minimum=1)

STATIC_URL = "/static/"
# Outside the data folder: a volume mounted over the data folder must never hide the static files
# collected into an image.
STATIC_ROOT = str(Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))).resolve())
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []

# --- tracking ------------------------------------------------------------------------------------
TRACKER = env_choice("TRACKER", ["cpu", "sam2"], "cpu")
SAM2_CONFIG = env_str("SAM2_CONFIG", "configs/sam2.1/sam2.1_hiera_t.yaml")
SAM2_CHECKPOINT = env_str("SAM2_CHECKPOINT")
SAM2_DEVICE = env_choice("SAM2_DEVICE", ["auto", "cuda", "cpu"], "auto")
SAM2_IMAGE_SIZE = env_int("SAM2_IMAGE_SIZE", 0, minimum=0)  # 0 = the config's own size
SAM2_MAX_MEMORY_FRAMES = env_int("SAM2_MAX_MEMORY_FRAMES", 7, minimum=0)
SAM2_OFFLOAD_TO_CPU = env_bool("SAM2_OFFLOAD_TO_CPU", True)
SAM2_ALLOW_RANDOM_WEIGHTS = env_bool("SAM2_ALLOW_RANDOM_WEIGHTS", False)
TRACKER_CPU_WORK_SIZE = env_int("TRACKER_CPU_WORK_SIZE", 640, minimum=64)
TRACKING_SESSION_IDLE_SECONDS = env_int("TRACKING_SESSION_IDLE_SECONDS", 600, minimum=10)
TRACKING_CLICK_TIMEOUT_SECONDS = env_float("TRACKING_CLICK_TIMEOUT_SECONDS", 30.0, minimum=1.0)
TRACKING_JOB_TIME_LIMIT = env_int("TRACKING_JOB_TIME_LIMIT", 1800, minimum=10)
TRACKING_JOB_MAX_ATTEMPTS = env_int("TRACKING_JOB_MAX_ATTEMPTS", 3, minimum=1)
TRACKING_QUEUED_STALE_SECONDS = env_int("TRACKING_QUEUED_STALE_SECONDS", 600, minimum=10)
TRACKING_HEARTBEAT_STALE_SECONDS = env_int("TRACKING_HEARTBEAT_STALE_SECONDS", 120, minimum=10)
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 60, minimum=1)

# --- media processing ----------------------------------------------------------------------------
DEFAULT_ANNOTATION_FPS = env_float("DEFAULT_ANNOTATION_FPS", 6.0, minimum=0.1)
PROXY_MAX_WIDTH = env_int("PROXY_MAX_WIDTH", 1280, minimum=64)
PROXY_KEYFRAME_SECONDS = env_float("PROXY_KEYFRAME_SECONDS", 0.5, minimum=0.04)
FRAME_JPEG_QUALITY = env_int("FRAME_JPEG_QUALITY", 90, minimum=10)
INGEST_TIME_LIMIT = env_int("INGEST_TIME_LIMIT", 3600, minimum=10)
INGEST_QUEUED_STALE_SECONDS = env_int("INGEST_QUEUED_STALE_SECONDS", 900, minimum=10)

# --- exports -------------------------------------------------------------------------------------
EXPORT_TIME_LIMIT = env_int("EXPORT_TIME_LIMIT", 7200, minimum=10)
EXPORT_QUEUED_STALE_SECONDS = env_int("EXPORT_QUEUED_STALE_SECONDS", 900, minimum=10)

# --- auth, api -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "annotation.apis_common.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOG_LEVEL = env_choice("LOG_LEVEL", ["DEBUG", "INFO", "WARNING", "ERROR"], "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "werkzeug": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
    },
}
