"""Settings, driven only by the environment (docs/configuration.md lists every variable).

The defaults run the embedded set-up: SQLite in WAL mode under ``DATA_DIR`` and Celery in
eager mode. Production differs only through the environment: ``DATABASE_URL``,
``REDIS_URL``, ``SECRET_KEY`` and ``DEBUG=false``.
"""

from __future__ import annotations

from pathlib import Path

from config.env import (
    SettingsError,
    env_bool,
    env_choice,
    env_database,
    env_email,
    env_int,
    env_list,
    env_networks,
    env_redis,
    env_secret,
    env_str,
)
from core.logging import build_logging

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

# --- secrets --------------------------------------------------------------------------------

_DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_secret("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise SettingsError(
            "SECRET_KEY: missing; set SECRET_KEY (or SECRET_KEY_FILE) to 50+ random characters, "
            "or DEBUG=true for development"
        )
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY
elif not DEBUG and (
    len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith("django-insecure-")
    or SECRET_KEY == _DEVELOPMENT_SECRET_KEY
):
    raise SettingsError("SECRET_KEY: too weak for production; use 50+ random characters")
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

# --- hosts and HTTP security -----------------------------------------------------------------

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

_https = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _https else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _https)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _https)
if env_bool("USE_X_FORWARDED_PROTO", False):
    # Only behind a proxy that overwrites this header; otherwise clients could claim HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts only from our own static files (no inline script anywhere, the API docs included); style
# attributes are allowed for the admin's and the charts' inline styles. Nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # the TOTP QR code is an SVG data URI
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True

# Client IPs: X-Forwarded-For is believed only as far as these say (audit.middleware.client_ip).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

# --- applications ----------------------------------------------------------------------------

INSTALLED_APPS = [
    # Before the admin, whose templates the officer console's own extend and override (the header
    # that folds on a phone, lists whose tables scroll in their own region: officers/templates/admin/).
    "officers",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "pgtrigger",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "config.apps.ConfigConfig",
    "audit",
    "accounts",
    "brokers",
    "signatures",
    "risk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "audit.middleware.RequestContextMiddleware",
    "accounts.middleware.DeviceCookieMiddleware",
    "core.sessions.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.MustChangePasswordMiddleware",
    "accounts.middleware.MfaEnrolmentMiddleware",
    "accounts.middleware.StepUpMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.RefuseNulCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.password_reminder",
                "accounts.context_processors.unread_notifications",
                "accounts.context_processors.time_zone",
            ],
        },
    },
]

# --- data ------------------------------------------------------------------------------------

_database = env_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["OPTIONS"] = {
        # WAL lets readers proceed while the one writer writes; IMMEDIATE takes the write lock
        # at BEGIN so two writers queue instead of failing when one upgrades its read lock.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not shared-cache memory, so concurrency tests meet SQLite's real locking.
    _database["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
else:
    # Lets the password come from a secret file instead of the URL (docker-compose does this).
    _database["PASSWORD"] = env_secret("DATABASE_PASSWORD") or _database.get("PASSWORD", "")
    _database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    _database["CONN_HEALTH_CHECKS"] = True
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with a health check that needs no round trip while the connection is sound.
        _database["ENGINE"] = "core.postgresql"
    _database.setdefault("OPTIONS", {})["connect_timeout"] = 5
    # Server-side binding and prepared statements: a query run five times on a connection is
    # planned once, which halves the time of the signing path's statements (bench/sign.py).
    # Turn off behind a pooler in transaction mode that cannot follow prepared statements.
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        _database["OPTIONS"]["server_side_binding"] = True
        _database["OPTIONS"]["prepare_threshold"] = 5
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env_redis("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "csg",
            # Short timeouts: a Redis outage must degrade a page, not hang it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "csg"}}

# --- Celery ----------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A task whose worker died unacknowledged goes back to the queue after this many seconds (every task
# that changes state is acks_late and idempotent, so a redelivery does its work once).
TASK_VISIBILITY_TIMEOUT = env_int("TASK_VISIBILITY_TIMEOUT", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": TASK_VISIBILITY_TIMEOUT,
    # How often a worker looks for such messages (kombu's default is every 100 s).
    "unacked_restore_interval": min(10, max(1, TASK_VISIBILITY_TIMEOUT // 3)),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
}
# Publishing happens after the commit; if Redis is down the fact is already stored and a sweep
# will pick it up, so give up quickly instead of holding the request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
HEALTHZ_REQUIRE_WORKER = env_bool("HEALTHZ_REQUIRE_WORKER", True)

# --- internationalisation --------------------------------------------------------------------

LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "vi", {"vi", "en"})
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
# Our own input formats first (config/formats/<lang>/formats.py): dates typed dd/mm/yyyy.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Ho_Chi_Minh")
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- static files ----------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start otherwise
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

# --- email -----------------------------------------------------------------------------------

_email = env_email("EMAIL_URL", "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
for _key in (
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_FILE_PATH",  # filemail:////var/mail/csg: each email a file (the real-worker tests count them)
):
    if _email.get(_key) not in (None, ""):
        globals()[_key] = _email[_key]
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@customs-signature.localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- authentication --------------------------------------------------------------------------

# DESIGN §5 rule 4: length (NIST SP 800-63B-4: at least 15, at least 64 allowed, no composition
# rules), the user's own data, the common-password list and a zxcvbn score.
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 15, minimum=8)
PASSWORD_MAX_LENGTH = env_int("PASSWORD_MAX_LENGTH", 128, minimum=64)
PASSWORD_MIN_SCORE = env_int("PASSWORD_MIN_SCORE", 3, minimum=0, maximum=4)
PASSWORD_HISTORY = env_int("PASSWORD_HISTORY", 5, minimum=1)
PASSWORD_REMINDER_DAYS = env_int("PASSWORD_REMINDER_DAYS", 180, minimum=1)
# 0: no maximum age (DESIGN §5 rule 8: a change is forced only on evidence, or where an officer's
# policy sets a maximum age).
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 0, minimum=0)
ACCOUNT_INACTIVITY_DAYS = env_int("ACCOUNT_INACTIVITY_DAYS", 90, minimum=1)
REAUTH_SECONDS = env_int("REAUTH_SECONDS", 300, minimum=30)
BREACHED_PASSWORDS_PATH = env_str("BREACHED_PASSWORDS_PATH", "")
EMAIL_VERIFICATION_MAX_AGE = env_int("EMAIL_VERIFICATION_MAX_AGE", 3 * 24 * 3600, minimum=300)
# A notice about a sign-in (the new-device notice) is mailed once the sign-in is evaluated, whose
# own notice may replace it (one sign-in, one email); if the evaluation is late (the risk queue is
# down) it is mailed anyway this long after the sign-in. Longer than the risk sweep's catch-up.
NOTIFICATION_SIGNIN_WAIT_SECONDS = env_int("NOTIFICATION_SIGNIN_WAIT_SECONDS", 180, minimum=0)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "accounts.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "accounts.password_validation.MaximumLengthValidator",
        "OPTIONS": {"max_length": PASSWORD_MAX_LENGTH},
    },
    {"NAME": "accounts.password_validation.UserContextValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.password_validation.StrengthValidator", "OPTIONS": {"min_score": PASSWORD_MIN_SCORE}},
    {"NAME": "accounts.password_validation.PasswordHistoryValidator", "OPTIONS": {"count": PASSWORD_HISTORY}},
]

# Lock-out (django-axes): by username and client address together, so one office's failures do not
# lock its colleagues out, and by address alone at a higher threshold, against one address trying
# many accounts. Each lock-out within LOCKOUT_PROGRESSIVE_HOURS doubles the next cool-off, up to
# LOCKOUT_MAX_MINUTES. The same page whether or not the account exists.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.AccountBackend"]
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = env_int("LOCKOUT_FAILURES", 5, minimum=1)
LOCKOUT_IP_FAILURES = env_int("LOCKOUT_IP_FAILURES", 30, minimum=AXES_FAILURE_LIMIT)
LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 15, minimum=1)
LOCKOUT_MAX_MINUTES = env_int("LOCKOUT_MAX_MINUTES", 24 * 60, minimum=LOCKOUT_MINUTES)
LOCKOUT_PROGRESSIVE_HOURS = env_int("LOCKOUT_PROGRESSIVE_HOURS", 24, minimum=1)
AXES_COOLOFF_TIME = "accounts.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_CLIENT_IP_CALLABLE = "audit.middleware.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Second factor (django-otp TOTP): required of officers and of these organisation roles.
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", ["owner"])
if unknown_roles := set(MFA_REQUIRED_ROLES) - {"owner", "administrator", "declarant", "signer", "viewer"}:
    raise SettingsError(f"MFA_REQUIRED_ROLES: unknown role(s) {', '.join(sorted(unknown_roles))}")
OTP_TOTP_ISSUER = "Customs Signature Governance"
MFA_RECOVERY_CODES = 10
INVITATION_DAYS = env_int("INVITATION_DAYS", 7, minimum=1)

# Certificates (DESIGN §7).
MAX_CERT_UPLOAD_BYTES = env_int("MAX_CERT_UPLOAD_BYTES", 64 * 1024, minimum=4096)
CERTIFICATE_CHALLENGE_SECONDS = env_int("CERTIFICATE_CHALLENGE_SECONDS", 600, minimum=60)
# Traders are told of signatures in their name by a sweep this often (or in a digest at this hour).
SIGNATURE_NOTICE_SECONDS = env_int("SIGNATURE_NOTICE_SECONDS", 10, minimum=1, maximum=3600)
SIGNATURE_DIGEST_HOUR = env_int("SIGNATURE_DIGEST_HOUR", 7, minimum=0, maximum=23)
CRL_FETCH = env_bool("CRL_FETCH", False)
CRL_FETCH_TIMEOUT = env_int("CRL_FETCH_TIMEOUT", 10, minimum=1)

# Broker operations reports (DESIGN §4): the period, the days after it to file, and whether three
# consecutive missing or late reports suspend the licence at once instead of proposing it to officers.
BROKER_REPORT_PERIOD = env_choice("BROKER_REPORT_PERIOD", "quarter", {"quarter", "month"})
BROKER_REPORT_GRACE_DAYS = env_int("BROKER_REPORT_GRACE_DAYS", 15, minimum=0, maximum=366)
BROKER_AUTO_SUSPEND = env_bool("BROKER_AUTO_SUSPEND", False)

# Serves the benchmark's baseline endpoint (bench/sign.py); never in production.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", False)

# A flag of one kind on one subject seen again within this many hours counts on the open flag.
FLAG_WINDOW_HOURS = env_int("FLAG_WINDOW_HOURS", 24, minimum=1)

# The nightly compliance classification looks at this many days of signals.
COMPLIANCE_WINDOW_DAYS = env_int("COMPLIANCE_WINDOW_DAYS", 365, minimum=30, maximum=3650)
# --- risk engine (DESIGN §9; docs/risk-engine.md) -----------------------------------------------

RISK_DETECTORS = env_list(
    "RISK_DETECTORS",
    [
        f"risk.detectors.{name}"
        for name in (
            "new_device",
            "new_network",
            "foreign_party_device",
            "broker_network",
            "multi_tax_code_device",
            "concurrent_networks",
            "off_hours",
            "brute_force",
            "password_spray",
            "dormant_account",
        )
    ],
)
RISK_LOOKBACK_DAYS = env_int("RISK_LOOKBACK_DAYS", 90, minimum=1)
RISK_DEVICE_MEMORY_DAYS = env_int("RISK_DEVICE_MEMORY_DAYS", 365, minimum=1)
RISK_CONCURRENT_MINUTES = env_int("RISK_CONCURRENT_MINUTES", 10, minimum=1)
RISK_CLOCK_SKEW_SECONDS = env_int("RISK_CLOCK_SKEW_SECONDS", 120, minimum=0)
RISK_BRUTE_FORCE_FAILURES = env_int("RISK_BRUTE_FORCE_FAILURES", 10, minimum=2)
RISK_BRUTE_FORCE_MINUTES = env_int("RISK_BRUTE_FORCE_MINUTES", 15, minimum=1)
RISK_SECOND_FACTOR_FAILURES = env_int("RISK_SECOND_FACTOR_FAILURES", 3, minimum=1)
RISK_SPRAY_ACCOUNTS = env_int("RISK_SPRAY_ACCOUNTS", 10, minimum=2)
RISK_SPRAY_MINUTES = env_int("RISK_SPRAY_MINUTES", 60, minimum=1)
RISK_DORMANT_DAYS = env_int("RISK_DORMANT_DAYS", 90, minimum=1)
RISK_MULTI_TAX_CODES = env_int("RISK_MULTI_TAX_CODES", 3, minimum=2)
# A device or network an account signed in from this many times is its own (docs/risk-engine.md).
RISK_ESTABLISHED_SIGNINS = env_int("RISK_ESTABLISHED_SIGNINS", 3, minimum=1)
# A network belongs to another enterprise when its people signed in there this many times in the
# look-back window, making this per cent of other enterprises' sign-ins there.
RISK_NETWORK_HOLDER_SIGNINS = env_int("RISK_NETWORK_HOLDER_SIGNINS", 5, minimum=1)
RISK_NETWORK_HOLDER_SHARE = env_int("RISK_NETWORK_HOLDER_SHARE", 50, minimum=1, maximum=100)
RISK_NOTIFY_SEVERITY = env_choice("RISK_NOTIFY_SEVERITY", "medium", {"low", "medium", "high"})
RISK_REVIEW_DAYS = env_int("RISK_REVIEW_DAYS", 7, minimum=1)
RISK_SWEEP_AFTER_SECONDS = env_int("RISK_SWEEP_AFTER_SECONDS", 60, minimum=0)
RISK_BATCH_SIZE = env_int("RISK_BATCH_SIZE", 100, minimum=1)
RISK_RESPONSE_CHOICES = {"step_up", "end_sessions", "lock_account", "suspend_certificates"}


def _risk_responses(name: str, default: list[str]) -> list[str]:
    responses = env_list(name, default)
    unknown = sorted(set(responses) - RISK_RESPONSE_CHOICES)
    if unknown:
        raise SettingsError(f"{name}: unknown response(s) {', '.join(unknown)}")
    return responses


RISK_RESPONSES = {
    "low": _risk_responses("RISK_RESPONSES_LOW", []),
    "medium": _risk_responses("RISK_RESPONSES_MEDIUM", ["step_up"]),
    "high": _risk_responses("RISK_RESPONSES_HIGH", ["step_up", "end_sessions"]),
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- REST API --------------------------------------------------------------------------------

# Mandate proposals naming no registered trader (or a wrong registration date) allowed per broker
# in a sliding minute (brokers.services.mandates).
KNOWN_FACT_FAILURES_PER_MINUTE = env_int("KNOWN_FACT_FAILURES_PER_MINUTE", 5, minimum=1)
# How long a one-time authorisation code a trader gives its broker stays usable.
MANDATE_CODE_HOURS = env_int("MANDATE_CODE_HOURS", 72, minimum=1)
# Invalid API keys allowed per client address in a sliding minute (brokers.authentication).
API_KEY_FAILURES_PER_MINUTE = env_int("API_KEY_FAILURES_PER_MINUTE", 20, minimum=1)
# Refused filings allowed per API key (per portal user) in a sliding minute (signatures.refusal_limit).
SIGNING_REFUSALS_PER_MINUTE = env_int("SIGNING_REFUSALS_PER_MINUTE", 30, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "brokers.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "brokers.authentication.HasScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["core.filters.StrictFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["brokers.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env_str("API_RATE", "600/min")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Customs Signature Governance API",
    "DESCRIPTION": "Mandates, certificates, declarations and operations reports (DESIGN §6).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page is served from the sidecar's static files: no asset from the internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SECURITY": [{"ApiKey": []}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.errors.document_common_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "MandatePartyEnum": "brokers.models.Authorization.Party",
        "RepresentationEnum": "brokers.models.Authorization.Representation",
        "DeclarationKindEnum": "signatures.models.Declaration.Kind",
        "ErrorCodeEnum": "core.error_codes.ERROR_CODES",
    },
}

# --- audit trail -----------------------------------------------------------------------------

AUDIT_LOG_ID = env_str("AUDIT_LOG_ID", "customs-signature-governance")
AUDIT_CHECKPOINT_EVENTS = env_int("AUDIT_CHECKPOINT_EVENTS", 1024, minimum=1)
# Without workers (the embedded default) a receipt request seals and closes a due checkpoint itself
# (audit.services.sealing.audit_receipt_sealing_first): a short wait suits one person trying it.
AUDIT_CHECKPOINT_SECONDS = env_int("AUDIT_CHECKPOINT_SECONDS", 60 if REDIS_URL else 5, minimum=1)
AUDIT_SEAL_BATCH = env_int("AUDIT_SEAL_BATCH", 5000, minimum=1)
AUDIT_SIGNING_KEY = env_secret("AUDIT_SIGNING_KEY")
AUDIT_SIGNING_KEY_PATH = DATA_DIR / "audit-signing-key.pem"
AUDIT_RETIRED_PUBLIC_KEYS = env_list("AUDIT_RETIRED_PUBLIC_KEYS", [])
if AUDIT_SIGNING_KEY is None and not DEBUG:
    raise SettingsError(
        "AUDIT_SIGNING_KEY: missing; set AUDIT_SIGNING_KEY_FILE to an Ed25519 private key in PEM "
        "(python manage.py audit_keygen writes one); a key is generated only when DEBUG=true"
    )

# Production mail goes to a mail server named on purpose: the console backend would print every
# message, one-time links included, into the logs.
if not DEBUG and (
    not env_str("EMAIL_URL", "") or EMAIL_BACKEND.endswith(("console.EmailBackend", "locmem.EmailBackend"))
):
    raise SettingsError(
        "EMAIL_URL: set it to the mail server (e.g. smtp+tls://user:password@mail.example:587); "
        "console mail would print one-time links into the logs"
    )

# --- logging ---------------------------------------------------------------------------------

LOG_FORMAT = env_choice("LOG_FORMAT", "text", {"text", "json"})
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})
LOGGING = build_logging(LOG_FORMAT, LOG_LEVEL)
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.logging.SensitiveExceptionReporterFilter"
