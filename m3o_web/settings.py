"""Django settings for M3O, read from the environment through m3o_web.env.

With nothing set, the platform runs on embedded defaults: SQLite, an
in-process cache, a Celery broker in local files and console email. Setting
DATABASE_URL, REDIS_URL and the other variables listed in README.md switches
each concern to its production component.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
import structlog
from celery.schedules import crontab

from django.core.exceptions import ImproperlyConfigured
from m3o_web import env
from m3o_web.csp import content_security_policy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.string("M3O_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env.boolean("DEBUG", False)
# Production mode: every setting without a safe default must be given, and
# cookies, HSTS and redirects assume HTTPS.
PRODUCTION = env.boolean("M3O_PRODUCTION", False)
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when M3O_PRODUCTION is on.")
    _missing = [
        name
        for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "M3O_SITE_URL")
        if not env.is_set(name)
    ]
    if not (env.is_set("CELERY_BROKER_URL") or env.is_set("REDIS_URL")):
        _missing.append("CELERY_BROKER_URL or REDIS_URL")
    if _missing:
        raise ImproperlyConfigured(
            f"M3O_PRODUCTION is on but these settings are missing: {', '.join(_missing)}. "
            "Set them in the environment (or as NAME_FILE pointing at a file)."
        )

# Without DEBUG the key must come from the environment. With DEBUG a random
# key per process keeps the repository free of secrets; scripts/run stores one
# in var/ so that sign-ins survive a restart.
SECRET_KEY = env.string("SECRET_KEY", secrets.token_urlsafe(50) if DEBUG else None)

ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env.string("M3O_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.mfa",
    "allauth.usersessions",
    "django_htmx",
    "accounts",
    "catalog",
    "billing",
    "services",
    "services.builtin.cache",
    "services.builtin.chat",
    "services.builtin.comments",
    "services.builtin.contact",
    "services.builtin.cron",
    "services.builtin.event",
    "services.builtin.db",
    "services.builtin.file",
    "services.builtin.lists",
    "services.builtin.notes",
    "services.builtin.qr",
    "services.builtin.rss",
    "services.builtin.secret",
    "services.builtin.stream",
    "services.builtin.url",
    "services.builtin.wallet",
    "services.builtin.user",
    "services.builtin.location",
    "services.builtin.search",
    "services.providers",
]

# ApiBypass* middleware skip themselves on the /v1 gateway, which
# authenticates with API keys and needs no session or messages. The gateway
# view is csrf_exempt, so CsrfViewMiddleware passes it at once.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "m3o_web.middleware.RequestIdLogMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "m3o_web.middleware.ComponentFailureMiddleware",
    "accounts.middleware.UnconfiguredProviderMiddleware",
    "m3o_web.middleware.ApiBypassSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "m3o_web.middleware.ApiBypassAuthenticationMiddleware",
    "m3o_web.middleware.ApiBypassMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "m3o_web.middleware.ApiBypassUserSessionsMiddleware",
]

ROOT_URLCONF = "m3o_web.urls"
WSGI_APPLICATION = "m3o_web.wsgi.application"
ASGI_APPLICATION = "m3o_web.asgi.application"

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
                "accounts.context_processors.current_account",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

if not env.is_set("DATABASE_URL"):
    # The embedded default keeps its SQLite file in VAR_DIR.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env.string("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env.integer("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the Celery worker share
    # the SQLite file without "database is locked" errors under light load.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Redis ------------------------------------------------------

REDIS_URL = env.string("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.string("M3O_CACHE_PREFIX", "m3o"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------

CELERY_BROKER_URL = env.string("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery-queue"
    (_queue_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "usage-rollup": {
        "task": "billing.tasks.usage_rollup",
        "schedule": env.integer("M3O_ROLLUP_INTERVAL_SECONDS", 300, minimum=10),
    },
    "usage-events-prune": {
        "task": "billing.tasks.usage_events_prune",
        "schedule": crontab(hour=4, minute=0),
    },
    "holds-release-expired": {
        "task": "billing.tasks.holds_release_expired",
        "schedule": 60,
    },
    "meter-flush": {
        "task": "billing.tasks.meter_flush",
        "schedule": env.integer("M3O_METER_FLUSH_SECONDS", 2, minimum=1),
        # A flush that waited longer than a few intervals is superseded by the next one.
        "options": {"expires": 30},
    },
    "idempotency-records-purge": {
        "task": "services.tasks.idempotency_records_purge",
        "schedule": 3600,
    },
    "wallets-reconcile": {
        "task": "billing.tasks.wallets_reconcile",
        # Nightly, after the day's usage is rolled up; it emails operators any mismatch.
        "schedule": crontab(hour=3, minute=0),
    },
    "balance-thresholds-check": {
        "task": "billing.tasks.balance_thresholds_check",
        "schedule": 60,
    },
    # Hourly, because months end at a different UTC hour in each account's zone.
    # Cron jobs and rss feeds that are due are queued as one task each.
    "cron-dispatch-due": {
        "task": "services.builtin.cron.tasks.dispatch_due",
        "schedule": 10,
    },
    "rss-crawl-due": {
        "task": "services.builtin.rss.tasks.crawl_due",
        "schedule": 60,
    },
    "invoices-issue": {
        "task": "billing.tasks.invoices_issue",
        "schedule": crontab(minute=15),
    },
}

# --- Authentication (django-allauth) --------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[M3O] "
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# A signup with a registered address (in any letter case) gets a form error
# saying so. This also lets the password-reset form say that an address is
# unknown; the login form still does not tell which part was wrong.
ACCOUNT_PREVENT_ENUMERATION = False
# Changing the address keeps the old one until the new one is verified.
ACCOUNT_CHANGE_EMAIL = True
# Email the user when their password or email address changes.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
# GitHub and Google sign-in appear only when their OAuth client is configured.
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
for _provider, _scopes in (("github", ["user:email"]), ("google", ["profile", "email"])):
    _client_id = env.string(f"{_provider.upper()}_CLIENT_ID", "")
    if _client_id:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [{"client_id": _client_id, "secret": env.string(f"{_provider.upper()}_CLIENT_SECRET"), "key": ""}],
            "SCOPE": _scopes,
        }
SOCIALACCOUNT_LOGIN_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "M3O"
USERSESSIONS_TRACK_ACTIVITY = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https://") else "http"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

# --- Email ----------------------------------------------------------------

EMAIL_SMTP_HOST = env.string("EMAIL_HOST", "")
if EMAIL_SMTP_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_SMTP_HOST,
                "port": env.integer("EMAIL_PORT", 587, minimum=1),
                "username": env.string("EMAIL_HOST_USER", ""),
                "password": env.string("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env.boolean("EMAIL_USE_TLS", True),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "m3o_web.mail.ReadableConsoleEmailBackend"}}
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "M3O <no-reply@localhost>")

# --- Static files ---------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security headers -------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.boolean("M3O_SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.boolean("M3O_SSL_REDIRECT", PRODUCTION)
# Health checks are plain HTTP from inside the cluster or host.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.integer("M3O_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
# Turn these off if a subdomain of the site's domain is served without HTTPS.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("M3O_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env.boolean("M3O_HSTS_PRELOAD", PRODUCTION)
if env.boolean("M3O_BEHIND_TLS_PROXY", PRODUCTION):
    # The reverse proxy terminates TLS and sets this header to tell Django.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Platform -------------------------------------------------------------

# Money is counted in integer units: 1 unit = US$0.000001.
M3O_SIGNUP_CREDIT_UNITS = env.integer("M3O_SIGNUP_CREDIT_UNITS", 1_000_000, minimum=0)
M3O_SIGNUP_OPEN = env.boolean("M3O_SIGNUP_OPEN", True)
M3O_MAX_BODY_BYTES = env.integer("M3O_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
M3O_MAX_JSON_DEPTH = env.integer("M3O_MAX_JSON_DEPTH", 64, minimum=2)
# A hold (reserved price of a call in flight) older than this is released by
# billing.tasks.holds_release_expired. It must exceed the longest call.
M3O_HOLD_TTL_SECONDS = env.integer("M3O_HOLD_TTL_SECONDS", 600, minimum=60)
# Default plan: free calls per account per month to free (price 0) endpoints,
# and what each such call costs after that, in units.
M3O_FREE_CALLS_PER_MONTH = env.integer("M3O_FREE_CALLS_PER_MONTH", 10_000, minimum=0)
M3O_UNITS_PAST_ALLOWANCE = env.integer("M3O_UNITS_PAST_ALLOWANCE", 1, minimum=0)
# Default plan: calls per key and per account in each fixed window.
M3O_RATE_LIMIT_PER_KEY = env.integer("M3O_RATE_LIMIT_PER_KEY", 600, minimum=1)
M3O_RATE_LIMIT_PER_ACCOUNT = env.integer("M3O_RATE_LIMIT_PER_ACCOUNT", 1200, minimum=1)
M3O_RATE_LIMIT_WINDOW_SECONDS = env.integer("M3O_RATE_LIMIT_WINDOW_SECONDS", 60, minimum=1)
# Streams one account may hold open at once in each ASGI process. Each stream
# holds one of the process's Redis pub/sub connections (redis-py 8 pools at most 100 per
# process by default), so one account cannot take them all.
M3O_MAX_STREAMS_PER_ACCOUNT = env.integer("M3O_MAX_STREAMS_PER_ACCOUNT", 20, minimum=1)
# Where calls are charged: "redis" (one script per call, flushed to the database
# in batches; billing/metering.py) or "database" (one transaction per call).
M3O_METER = env.choice("M3O_METER", "redis" if REDIS_URL else "database", ("database", "redis"))
if M3O_METER == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("M3O_METER=redis needs REDIS_URL.")
# How often the flusher moves the Redis meter's usage into the database; the
# most usage a Redis crash can lose is what arrived since the last flush.
M3O_METER_FLUSH_SECONDS = env.integer("M3O_METER_FLUSH_SECONDS", 2, minimum=1)
# The dashboard refreshes an API key's "last used" time at most this often,
# so that a busy key does not write its row on every call.
M3O_KEY_LAST_USED_RESOLUTION_SECONDS = env.integer("M3O_KEY_LAST_USED_RESOLUTION_SECONDS", 60, minimum=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(M3O_MAX_BODY_BYTES, 2_621_440)
# Raw usage events (one per call) are deleted this many days after the call,
# once rolled up into the hourly and daily totals. Invoices read the raw
# events of the month just ended, hence the minimum.
M3O_USAGE_RETENTION_DAYS = env.integer("M3O_USAGE_RETENTION_DAYS", 90, minimum=62)
# Usage events added to the totals per roll-up transaction.
M3O_ROLLUP_BATCH_EVENTS = env.integer("M3O_ROLLUP_BATCH_EVENTS", 500_000, minimum=100)

# Key for secrets stored in the database, such as upstream credentials: a
# Fernet key (cryptography.fernet.Fernet.generate_key()) or any long random
# text. Unset, a key is derived from SECRET_KEY. See catalog/crypto.py.
M3O_FIELD_ENCRYPTION_KEY = env.string("M3O_FIELD_ENCRYPTION_KEY", "")

# Upstream services: the gateway rejects upstream hosts that resolve to
# private, loopback, link-local (cloud metadata) or other non-public
# addresses, unless the host is listed here or M3O_UPSTREAM_ALLOW_PRIVATE is
# on. Both are for development and tests.
M3O_UPSTREAM_ALLOWED_HOSTS = env.string_list("M3O_UPSTREAM_ALLOWED_HOSTS", [])
M3O_UPSTREAM_ALLOW_PRIVATE = env.boolean("M3O_UPSTREAM_ALLOW_PRIVATE", False)
# The maximum time an upstream call may take in total, however steadily the upstream trickles bytes.
M3O_UPSTREAM_MAX_CALL_SECONDS = env.integer("M3O_UPSTREAM_MAX_CALL_SECONDS", 30, minimum=1)
# An upstream response larger than this is a 502, so one upstream cannot fill the gateway's memory.
M3O_UPSTREAM_MAX_RESPONSE_BYTES = env.integer("M3O_UPSTREAM_MAX_RESPONSE_BYTES", 5 * 1024 * 1024, minimum=1024)

# Outbound services (ping, tunnel, cron callbacks, rss crawls) go through the
# same guard and allowlist as upstreams, with these caps: requests per account
# per minute, seconds per request and bytes per response.
M3O_OUTBOUND_REQUESTS_PER_MINUTE = env.integer("M3O_OUTBOUND_REQUESTS_PER_MINUTE", 120, minimum=1)
M3O_OUTBOUND_TIMEOUT_SECONDS = env.integer("M3O_OUTBOUND_TIMEOUT_SECONDS", 10, minimum=1)
M3O_OUTBOUND_MAX_RESPONSE_BYTES = env.integer("M3O_OUTBOUND_MAX_RESPONSE_BYTES", 1024 * 1024, minimum=1024)
# cron: the shortest interval between two runs of a job, and the most jobs one account may keep.
M3O_CRON_MIN_INTERVAL_SECONDS = env.integer("M3O_CRON_MIN_INTERVAL_SECONDS", 60, minimum=1)
M3O_CRON_MAX_JOBS_PER_ACCOUNT = env.integer("M3O_CRON_MAX_JOBS_PER_ACCOUNT", 100, minimum=1)
# rss: how often each feed is crawled, and how many entries are kept per feed (newest first).
M3O_RSS_CRAWL_INTERVAL_SECONDS = env.integer("M3O_RSS_CRAWL_INTERVAL_SECONDS", 900, minimum=60)
M3O_RSS_MAX_ENTRIES_PER_FEED = env.integer("M3O_RSS_MAX_ENTRIES_PER_FEED", 200, minimum=1)

# Routes /v1/bench/echo, the baseline of bench/gateway.py. Never in production.
M3O_BENCH_BASELINE = env.boolean("M3O_BENCH_BASELINE", False)

# Bearer token for /metrics; metrics are off while it is unset.
M3O_METRICS_TOKEN = env.string("M3O_METRICS_TOKEN", "")

# Stripe: localstripe on loopback unless real keys are configured.
STRIPE_API_BASE = env.string("STRIPE_API_BASE", "http://127.0.0.1:8420")
STRIPE_SECRET_KEY = env.string("STRIPE_SECRET_KEY", "sk_test_localstripe")
STRIPE_PUBLISHABLE_KEY = env.string("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe")
# Stripe.js; localstripe serves a test copy that talks to STRIPE_API_BASE.
STRIPE_JS_URL = env.string("STRIPE_JS_URL", f"{STRIPE_API_BASE.rstrip('/')}/js.stripe.com/v3/")
SECURE_CSP = content_security_policy(stripe_js_url=STRIPE_JS_URL, stripe_api_base=STRIPE_API_BASE)
# The signing secret of the webhook endpoint (/billing/stripe/webhook/). It has a
# default only for localstripe on loopback; against real Stripe it is required,
# because a known secret would let anyone forge payment events.
_STRIPE_IS_LOCAL = STRIPE_API_BASE.startswith(("http://127.0.0.1:", "http://localhost:"))
STRIPE_WEBHOOK_SECRET = env.string("STRIPE_WEBHOOK_SECRET", "whsec_localstripe" if _STRIPE_IS_LOCAL else None)
# A webhook whose signed timestamp is older than this is rejected, against replays.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.integer("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1)
STRIPE_CURRENCY = "usd"
# Card top-ups, in US cents.
M3O_TOPUP_MIN_CENTS = env.integer("M3O_TOPUP_MIN_CENTS", 1_000, minimum=50)
M3O_TOPUP_MAX_CENTS = env.integer("M3O_TOPUP_MAX_CENTS", 1_000_000, minimum=M3O_TOPUP_MIN_CENTS)
# Offer top-ups through Stripe Checkout's hosted payment page, besides the card form.
M3O_STRIPE_CHECKOUT = env.boolean("M3O_STRIPE_CHECKOUT", False)
# An invoice is issued this long after its month ends, so that calls in flight at
# midnight settle first. Keep it above M3O_HOLD_TTL_SECONDS, the longest a call can hold.
M3O_INVOICE_GRACE_SECONDS = env.integer("M3O_INVOICE_GRACE_SECONDS", 900, minimum=0)
# After a failed auto top-up, the next attempt waits this long, so a declined card is not charged every minute.
M3O_AUTO_TOPUP_RETRY_AFTER_SECONDS = env.integer("M3O_AUTO_TOPUP_RETRY_AFTER_SECONDS", 6 * 3600, minimum=60)
# First retry delay of an auto top-up that failed to reach Stripe; it doubles on each of 5 retries.
M3O_AUTO_TOPUP_RETRY_BASE_SECONDS = env.integer("M3O_AUTO_TOPUP_RETRY_BASE_SECONDS", 60, minimum=1)
# Recipients of operator alerts such as the nightly reconcile report. Empty: every active superuser.
M3O_OPERATOR_EMAILS = env.string_list("M3O_OPERATOR_EMAILS", [])

# --- Logging --------------------------------------------------------------

LOG_FORMAT = env.choice("LOG_FORMAT", "json" if PRODUCTION else "console", ("console", "json"))
LOG_LEVEL = env.string("LOG_LEVEL", "INFO").upper()
_shared_processors = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
structlog.configure(
    processors=[
        # First, so a message below LOG_LEVEL costs a level check and nothing else.
        structlog.stdlib.filter_by_level,
        *_shared_processors,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer()
                if LOG_FORMAT == "json"
                else structlog.dev.ConsoleRenderer(colors=False),
            ],
            "foreign_pre_chain": _shared_processors,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs each request's full URL at INFO, which can carry an
        # upstream credential or a caller's fields in the query string.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
