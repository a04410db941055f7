"""Configuration classes. Every setting can come from the environment; see README."""

from __future__ import annotations

import os
from datetime import timedelta


def _env_list(name: str, default: str) -> list[str]:
    return [part.strip().lower() for part in os.environ.get(name, default).split(",") if part.strip()]


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")  # generated into instance/ when unset
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None -> SQLite under instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Connections kept open per process (PostgreSQL). Keep it at least the number of threads a
    # worker runs: a connection opened past it is closed again after one request, and a fresh
    # PostgreSQL backend costs milliseconds of CPU to start and to warm its catalog caches.
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 10)
    DB_MAX_OVERFLOW = _env_int("DB_MAX_OVERFLOW", 10)
    # Settings of every PostgreSQL session the app opens (libpq's ``options``), unless
    # DATABASE_URL names its own. JIT off: PostgreSQL compiles a plan whose estimated cost passes
    # jit_above_cost (100,000). The dashboard's employees statement (cost 25,000 at a million
    # events, growing with the data) took 250-420 ms instead of 110 once compiled, and a
    # misestimated plan that passed the optimizing threshold spent 2.0 s compiling; the full KPI
    # aggregation took as long either way (54-61 s).
    # No parallel workers: a web request shares the CPUs with the other requests, so starting
    # workers for one statement only adds their start-up. /network's order figures of the
    # largest chain (a parallel append of two small scans) took 7.6 ms instead of 3.0; over HTTP
    # (bench/kpi.py, five runs each way in turns) /network's p95 went 231 -> 163 ms, and the
    # dashboard's stayed within its runs' spread.
    DB_SESSION_OPTIONS = os.environ.get("DB_SESSION_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0")
    SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 30_000)

    COMPANY_NAME = os.environ.get("COMPANY_NAME", "Neigou Demo Co.")
    COMPANY_EMAIL_DOMAINS = _env_list("COMPANY_EMAIL_DOMAINS", "neigou.example")
    # Whether sub.neigou.example counts as neigou.example (list each subdomain instead when not).
    COMPANY_EMAIL_SUBDOMAINS = os.environ.get("COMPANY_EMAIL_SUBDOMAINS", "0") == "1"
    CURRENCY = os.environ.get("CURRENCY", "CNY")
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai")
    # The language of a visitor whose browser asks for none we have, and of mail to people who
    # never chose one. The users are a Chinese company's staff: Chinese first, English one click away.
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    # The languages the shop is written in (catalogues under shop/translations, built by `make`).
    LANGUAGES = ["zh_CN", "en"]
    LOCALE_COOKIE_DAYS = _env_int("LOCALE_COOKIE_DAYS", 365)  # a visitor's choice of language

    RESERVATION_MINUTES = _env_int("RESERVATION_MINUTES", 15)
    CARD_PAYMENT_HOLD_MINUTES = _env_int("CARD_PAYMENT_HOLD_MINUTES", 10)  # from the start of a card payment
    PAYROLL_MONTHLY_CAP = _env_int("PAYROLL_MONTHLY_CAP", 500_000)  # minor units (5,000.00)

    # zxcvbn's score (0-4) a new password needs: 2 refuses the common passwords and their
    # variations ("password1", "12345678", "qwertyuiop") and the user's own name or address.
    PASSWORD_MIN_SCORE = _env_int("PASSWORD_MIN_SCORE", 2)

    EMAIL_TOKEN_MAX_AGE = timedelta(hours=_env_int("EMAIL_TOKEN_HOURS", 48))
    RESET_TOKEN_MAX_AGE = timedelta(hours=_env_int("RESET_TOKEN_HOURS", 2))
    INVITATION_TOKEN_MAX_AGE = timedelta(hours=_env_int("INVITATION_TOKEN_HOURS", 168))

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "neigou <no-reply@neigou.example>")

    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")
    # Failed log-ins per account (e-mail address, known or not), from any address: each limit
    # reached makes the wait longer.
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "5 per minute;10 per 15 minutes;20 per hour")
    RATELIMIT_RESET = os.environ.get("RATELIMIT_RESET", "5 per hour")
    RATELIMIT_SIGNUP = os.environ.get("RATELIMIT_SIGNUP", "20 per hour")
    RATELIMIT_HEADERS_ENABLED = True
    # Referral sign-ups: attempts per client address, and successful sign-ups per link code.
    RATELIMIT_REFERRAL_SIGNUP_IP = os.environ.get("RATELIMIT_REFERRAL_SIGNUP_IP", "20 per hour")
    RATELIMIT_REFERRAL_SIGNUP_CODE = os.environ.get("RATELIMIT_REFERRAL_SIGNUP_CODE", "20 per hour")
    REFERRAL_VISITS_PER_IP_DAY = _env_int("REFERRAL_VISITS_PER_IP_DAY", 50)  # new visitors per link, address, day
    VISITOR_COOKIE_DAYS = _env_int("VISITOR_COOKIE_DAYS", 365)
    POSTER_FONT = os.environ.get("POSTER_FONT")  # a font with Chinese glyphs; default: a system CJK font
    FLAG_SIGNUP_BURST_COUNT = _env_int("FLAG_SIGNUP_BURST_COUNT", 5)  # sign-ups from one address ...
    FLAG_SIGNUP_BURST_MINUTES = _env_int("FLAG_SIGNUP_BURST_MINUTES", 60)  # ... within this many minutes
    FLAG_SHARED_ADDRESS_CONTACTS = _env_int("FLAG_SHARED_ADDRESS_CONTACTS", 3)  # contacts on one address

    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    # Uploads: at most this many pixels (a 24-megapixel camera's 6000 x 4000); each is stored as a
    # re-encoded copy of at most IMAGE_MAX_EDGE pixels a side (`flask shop bound-pictures` for old ones).
    IMAGE_MAX_PIXELS = _env_int("IMAGE_MAX_PIXELS", 24_000_000)
    IMAGE_MAX_EDGE = _env_int("IMAGE_MAX_EDGE", 1600)
    # Share posters: kept as files under instance/cache/posters, at most POSTER_CACHE_FILES of them;
    # one unused for POSTER_CACHE_SECONDS is drawn again (0 turns the cache off).
    POSTER_CACHE_SECONDS = _env_int("POSTER_CACHE_SECONDS", 7 * 86_400)
    POSTER_CACHE_FILES = _env_int("POSTER_CACHE_FILES", 5000)
    RATELIMIT_POSTER = os.environ.get("RATELIMIT_POSTER", "30 per minute")  # poster images per member

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=_env_int("REMEMBER_COOKIE_DAYS", 14))
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "https")
    SERVER_NAME = os.environ.get("SERVER_NAME")
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    PAGE_SIZE = 24
    PAGE_CACHE_SECONDS = _env_int("PAGE_CACHE_SECONDS", 5)  # storefront fragments; 0 turns it off
    # The logged-in user's row for page views (GET, HEAD), shop/accounts/session.py; 0 turns it off.
    USER_CACHE_SECONDS = _env_int("USER_CACHE_SECONDS", 5)
    # Every cache (shop/caching.py) on or off; or some off by name (comma-separated).
    CACHES_ENABLED = os.environ.get("CACHES_ENABLED", "1") == "1"
    CACHES_DISABLED = [name for name in os.environ.get("CACHES_DISABLED", "").split(",") if name]
    # KPI rollups recount the days of facts written this long before the last run began (kpis/aggregation.py)
    KPI_OVERLAP_SECONDS = _env_int("KPI_OVERLAP_SECONDS", 600)
    ARTICLE_REVIEW_DAYS = _env_int("ARTICLE_REVIEW_DAYS", 180)  # community articles older than this are due for review
    # Share of reminded buyers expected to order, until past festivals give a measured one.
    FESTIVAL_DEFAULT_CONVERSION = float(os.environ.get("FESTIVAL_DEFAULT_CONVERSION", "0.25"))
    # The site's address, e.g. https://shop.example.com: every absolute link (mail, share links,
    # QR codes) is built on it, never on the request's Host header. Required in production.
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    # Host names served besides PUBLIC_URL's; a request for any other Host is refused (400).
    # create_app sets Flask's TRUSTED_HOSTS from both.
    EXTRA_TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS", "")
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host (werkzeug's
    # ProxyFix trusts that many); 0 reads the client address from the connection itself.
    PROXY_COUNT = _env_int("PROXY_COUNT", 0)

    # Card payments through Stripe; without the three keys the shop runs with payroll only.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE")  # e.g. a local fake Stripe server; unset: Stripe itself
    STRIPE_WEBHOOK_TOLERANCE = _env_int("STRIPE_WEBHOOK_TOLERANCE", 300)  # seconds a signed event stays valid
    STRIPE_RECONCILE_HOURS = _env_int("STRIPE_RECONCILE_HOURS", 72)  # how far back stripe-reconcile looks

    # The worker (flask shop worker): intervals per job as "name=seconds,..." over the defaults
    # in shop/worker/registry.py (0 switches a job off); its heartbeat, read by /healthz.
    WORKER_INTERVALS = os.environ.get("WORKER_INTERVALS", "")
    WORKER_HEARTBEAT_SECONDS = _env_int("WORKER_HEARTBEAT_SECONDS", 10)
    WORKER_STALE_SECONDS = _env_int("WORKER_STALE_SECONDS", 60)  # /healthz: a heartbeat older is stale
    WORKER_LOCK_LEASE_SECONDS = _env_int("WORKER_LOCK_LEASE_SECONDS", 900)  # SQLite: a job's lease runs out
    WORKER_STOP_GRACE_SECONDS = _env_int("WORKER_STOP_GRACE_SECONDS", 20)  # waiting for running jobs at a stop


class DevelopmentConfig(Config):
    """`make run`: local HTTP, so the session cookie cannot be Secure."""

    SESSION_COOKIE_SECURE = REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    EXTRA_TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS", "localhost")


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SESSION_COOKIE_SECURE = REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    # Not the test client's host (localhost): a link built from the request would show.
    PUBLIC_URL = "http://shop.neigou.test"
    EXTRA_TRUSTED_HOSTS = ["localhost", "127.0.0.1"]
    PROXY_COUNT = 0
    SERVER_NAME = None
    REDIS_URL = None
    MAIL_SERVER = None
    COMPANY_EMAIL_DOMAINS = ["neigou.example"]
    COMPANY_EMAIL_SUBDOMAINS = False
    # The suite's pages are read in English unless a test asks for another language (the
    # Chinese pages have their own tests: tests/i18n/).
    BABEL_DEFAULT_LOCALE = "en"
    CURRENCY = "CNY"
    RESERVATION_MINUTES = 15
    PAYROLL_MONTHLY_CAP = 500_000
    CACHES_ENABLED = False  # pages show what the test just wrote; test_caches turns them on
    STRIPE_SECRET_KEY = STRIPE_PUBLISHABLE_KEY = STRIPE_WEBHOOK_SECRET = STRIPE_API_BASE = None


CONFIGS = {"development": DevelopmentConfig, "production": Config, "testing": TestingConfig}
