"""One settings file, driven by environment variables.

With nothing set, Atelier runs embedded: SQLite in WAL mode, Celery over kombu's
filesystem transport, media in ./var/media, the sandbox engine. Every variable is
documented in README.md and .env.example.
"""
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_decimal,
    env_float,
    env_int,
    env_list,
    env_str,
    fernet_key_or_refuse,
    secret_key_or_refuse,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Nothing here creates folders: the commands that write under VAR_DIR create what they need
# (`make run` via config/keys.py, runall and serve, the broker transport, storage on save).
VAR_DIR = Path(env_str("ATELIER_VAR_DIR", str(BASE_DIR / "var")))

# Production switches on the strict defaults below (keys must be set, secure cookies, HSTS,
# MFA for admin, JSON logs). Every one of them can still be set on its own.
PRODUCTION = env_bool("ATELIER_PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
# From the environment, else the file `make run` generated on first use; else refuse to start.
SECRET_KEY = secret_key_or_refuse(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
ATELIER_ADDR = env_str("ATELIER_ADDR", "127.0.0.1:8000")
SITE_URL = env_str("SITE_URL") or f"http://{ATELIER_ADDR}"

# --- HTTPS and proxies ---
# Behind a TLS-terminating proxy: how many proxies append to X-Forwarded-For. With N > 0 the
# client address is the Nth entry from the right (apps/ops/middleware.py rewrites REMOTE_ADDR,
# so every per-IP limit reads the real client), and X-Forwarded-Proto says whether it was HTTPS.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "apps.accounts",
    "apps.wallet",
    "apps.catalog",
    "apps.providers",
    "apps.generations",
    "apps.api",
    "apps.agents",
    "apps.webhooks",
    "apps.studio",
    "apps.ops",
]

MIDDLEWARE = [
    "apps.ops.middleware.OpsMiddleware",  # request id, client address, latency, busy database -> 503
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.api.middleware.ApiMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "apps.ops.middleware.AdminMFAMiddleware",
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
                "apps.teams.context_processors.workspace",
                "apps.studio.context_processors.low_balance",
            ],
            "builtins": ["template_partials.templatetags.partials", "apps.studio.templatetags.atelier"],
        },
    }
]

# --- Database: SQLite (WAL) by default, DATABASE_URL for PostgreSQL ---
DATABASE_URL = env_str("DATABASE_URL")
# Every web or worker process takes its connections from a bounded psycopg pool, so a burst of
# requests waits for a connection (at most DB_POOL_TIMEOUT seconds, then a retryable 503) instead
# of opening one per thread until PostgreSQL refuses. A deployment's connection budget is
# DB_POOL_MAX_SIZE x (web processes + worker processes); keep it under max_connections.
DB_POOL = env_bool("DB_POOL", True)
DB_POOL_MIN_SIZE = env_int("DB_POOL_MIN_SIZE", 1, minimum=0)
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 8, minimum=1)
DB_POOL_TIMEOUT = env_float("DB_POOL_TIMEOUT", 10.0, minimum=0.1)
if DB_POOL_MIN_SIZE > DB_POOL_MAX_SIZE:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"DB_POOL_MIN_SIZE={DB_POOL_MIN_SIZE} is above DB_POOL_MAX_SIZE={DB_POOL_MAX_SIZE}.")
if DATABASE_URL:
    if DB_POOL:
        # No health check per checkout: it is a round trip on every request (two on a chat turn,
        # which gives its connection back while the upstream answers). The pool replaces a
        # connection that broke (psycopg_pool drops it when it is returned in a bad state) and
        # any connection older than max_lifetime.
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=False)}
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": DB_POOL_MIN_SIZE,
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": DB_POOL_TIMEOUT,
            # A connection idle this long is closed (down to min_size), one this old is replaced.
            "max_idle": 300.0,
            "max_lifetime": 1800.0,
        }
    else:
        DATABASES = {
            "default": dj_database_url.parse(
                DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0), conn_health_checks=True
            )
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "atelier.sqlite3")),
            "OPTIONS": {
                # WAL lets the web server read while a worker writes; IMMEDIATE takes
                # the write lock at BEGIN so a conditional UPDATE never deadlocks midway.
                # A writer waits up to SQLITE_BUSY_TIMEOUT seconds for the lock; past that the
                # request answers a retryable 503 (apps/ops/middleware.py), never a 500.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": env_float("SQLITE_BUSY_TIMEOUT", 20.0, minimum=0),
            },
            # Tests use a file, not :memory:, so a real worker process can share the database.
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when REDIS_URL is set, else per-process memory ---
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery: Redis broker when REDIS_URL is set, else kombu's filesystem transport ---
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)}
else:
    # kombu's filesystem transport with atomic message writes (it creates these folders on
    # first use): see config/broker.py.
    CELERY_BROKER_URL = "atelierfs://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "in"),
        "data_folder_out": str(CELERY_BROKER_DIR / "in"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "staging_folder": str(CELERY_BROKER_DIR / "staging"),
        "store_processed": False,
        "polling_interval": 0.2,
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often beat runs the sweeper (seconds): deadlines, lost messages, dead workers.
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 15, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "sweep-generations": {"task": "apps.generations.tasks.sweep_generations", "schedule": float(SWEEP_INTERVAL_SECONDS)},
    # Emails workspace owners whose available credits fell below the threshold they set.
    "low-balance-alerts": {"task": "apps.studio.tasks.send_low_balance_alerts", "schedule": 300.0},
    "prune-api-records": {"task": "apps.api.tasks.prune_api_records", "schedule": 600.0},
    # Webhook retries are rows with a due time, not Celery countdowns (see apps/webhooks/services.py).
    "sweep-webhooks": {"task": "apps.webhooks.tasks.sweep_webhooks", "schedule": float(SWEEP_INTERVAL_SECONDS)},
}

# --- Auth (django-allauth, email login) ---
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_choice("ACCOUNT_EMAIL_VERIFICATION", "none", ("none", "optional", "mandatory"))
ACCOUNT_LOGOUT_ON_GET = False
# Staff sign in to Django admin through allauth's login (config/urls.py), so its rate limits
# and its second step apply there too; with ADMIN_REQUIRE_MFA a staff account without TOTP
# is sent to set it up before admin opens.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Atelier")
ADMIN_REQUIRE_MFA = env_bool("ADMIN_REQUIRE_MFA", PRODUCTION)
# allauth's limits (per IP and per account): failed logins are what guards admin's password.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Atelier <noreply@localhost>")

# --- Static and media ---
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"  # collectstatic creates it
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# --- Storage and private media (begin) ---
# Outputs, thumbnails, web versions and covers go through Django's default storage:
# local files under MEDIA_ROOT unless S3_BUCKET names an S3-compatible bucket (AWS S3, MinIO,
# R2), which web and worker processes on any number of machines then share. Nothing is public:
# every URL handed out is signed and expires after MEDIA_URL_TTL seconds (presigned on S3, a
# link Django checks and serves on local storage; apps/generations/storage.py).
MEDIA_URL = "/files/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL_TTL = env_int("MEDIA_URL_TTL", 3600)
# Upstreams that take an input by URL get a fresh link that lives only this long.
MEDIA_SOURCE_URL_TTL = env_int("MEDIA_SOURCE_URL_TTL", 900)
for _name, _ttl in (("MEDIA_URL_TTL", MEDIA_URL_TTL), ("MEDIA_SOURCE_URL_TTL", MEDIA_SOURCE_URL_TTL)):
    if not 60 <= _ttl <= 604800:  # SigV4 presigned URLs live at most 7 days
        raise ImproperlyConfigured(f"{_name} must be between 60 and 604800 seconds (got {_ttl}).")
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "apps.generations.s3.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            # Unset endpoint = AWS; MinIO/R2/others: their URL. Unset keys = boto3's chain (IAM roles, env).
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "addressing_style": env_str("S3_ADDRESSING_STYLE") or None,  # "path" for MinIO
            "location": env_str("S3_PREFIX"),
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": MEDIA_URL_TTL,
            "default_acl": None,  # objects stay private: the bucket's policy, never public-read
            "file_overwrite": False,  # a name is never reused, like local storage
        },
    }
else:
    STORAGES["default"] = {"BACKEND": "apps.generations.storage.PrivateFileSystemStorage"}
# --- Storage and private media (end) ---

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Atelier ---
# Credits are stored as integer millicredits (1 credit = 1000); see apps/catalog/money.py.
SIGNUP_GRANT_CREDITS = env_int("SIGNUP_GRANT_CREDITS", 100, minimum=0)
# How long the synchronous API calls (OpenAI images and speech, pollinations GETs) wait for a job
# before answering 504 generation_pending with the task id to poll.
API_SYNC_WAIT_SECONDS = env_int("API_SYNC_WAIT_SECONDS", 60, minimum=1)
# How long an Idempotency-Key's first answer is replayed (reference 003); at least 24 hours.
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 24, minimum=24)
# How long a worker's claim on a job lasts before the sweeper hands the job to another worker.
GENERATION_LEASE_SECONDS = env_int("GENERATION_LEASE_SECONDS", 120, minimum=1)
# What a job served by the local sandbox engine costs, as a share of the model's price: 1 (the
# default) charges the model's price, so a demo shows real prices; 0.5 halves it; 0 is free.
SANDBOX_PRICE_FACTOR = env_decimal("SANDBOX_PRICE_FACTOR", "1", minimum="0")
# Largest file a member may upload as a model input (studio and API), in megabytes.
UPLOAD_MAX_MB = env_int("UPLOAD_MAX_MB", 50, minimum=1)

FIELD_ENCRYPTION_KEY = fernet_key_or_refuse(required=PRODUCTION)
# Webhooks: the whole of one delivery try (connect, send, answer), and how long an endpoint may
# fail every try before it is disabled and its owner is told.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 15)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 120)

# JSON lines (one object per record, with the request id) in production; readable text with the
# request id otherwise. Celery's workers log through the same handlers (they do not take over
# the root logger), so a job's lines carry the id of the request that submitted it.
LOG_FORMAT = env_choice("LOG_FORMAT", "json" if PRODUCTION else "text", ("json", "text"))
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logs.RequestIdFilter"},
                "redact_keys": {"()": "config.logs.RedactKeysFilter"}},
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["request_id", "redact_keys"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Operations: /healthz, /readyz, /metrics (apps/ops) ---
# /metrics needs `Authorization: Bearer <METRICS_TOKEN>` when set; in production it is hidden
# until a token is set. Several processes add up their metrics through PROMETHEUS_MULTIPROC_DIR
# (runall and serve set it under the var folder).
METRICS_TOKEN = env_str("METRICS_TOKEN")
# Hosts exempt from the public-address check of server-side fetches (host or host:port).
# Only for a local fake upstream or a LAN GPU box you trust, e.g. "127.0.0.1:8188".
SAFE_FETCH_ALLOW_HOSTS = env_list("SAFE_FETCH_ALLOW_HOSTS")

# --- Queues and worker pools (apps/generations/queues.py) ---
# Quick jobs (text, image, speech) and long ones (video, music) go to separate queues, each
# served by its own worker pool; beat's sweeper runs on the quick queue.
CELERY_QUICK_QUEUE = "quick"
CELERY_LONG_QUEUE = "long"
CELERY_TASK_DEFAULT_QUEUE = CELERY_QUICK_QUEUE
# Worker slots one workspace may hold at once in each pool (0 = no limit); past that, its jobs
# wait their turn behind other workspaces' jobs instead of filling the pool.
WORKSPACE_MAX_ACTIVE_QUICK = env_int("WORKSPACE_MAX_ACTIVE_QUICK", 4, minimum=0)
WORKSPACE_MAX_ACTIVE_LONG = env_int("WORKSPACE_MAX_ACTIVE_LONG", 2, minimum=0)

# --- Web server (manage.py serve: granian, WSGI) ---
# Requests and SSE streams served at once = WEB_WORKERS x WEB_THREADS; see README "Production".
WEB_WORKERS = env_int("WEB_WORKERS", 2, minimum=1)
WEB_THREADS = env_int("WEB_THREADS", 256, minimum=1)
# Open connections per web worker, idle keep-alive ones included (granian counts connections).
WEB_BACKPRESSURE = env_int("WEB_BACKPRESSURE", 1024, minimum=1)
# Redis connections per process (the cache's pool and the rate limiter's): every web thread may
# hold one at once. redis-py's pools refuse a 101st connection ("Too many connections": 500s in
# the burst test once more than 100 of the 256 threads reached the limiter together), so both
# are blocking pools sized to the threads, which wait for a connection instead of failing.
REDIS_POOL_SIZE = WEB_THREADS + 16
if REDIS_URL:
    CACHES["default"]["OPTIONS"] = {"pool_class": "redis.BlockingConnectionPool",
                                    "max_connections": REDIS_POOL_SIZE, "timeout": 10}
