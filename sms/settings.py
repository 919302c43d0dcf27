"""Configuration read once from the environment, checked at start-up.

A malformed value raises ``ConfigError`` naming the key, so the process stops
before it serves a request instead of failing halfway through one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sms import defaults
from sms.errors import ConfigError
from sms.messaging.encoding import is_gsm7

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to know about its environment."""

    database_url: str
    redis_url: str = defaults.DEFAULT_REDIS_URL
    secret_key: str = ""
    org_name: str = defaults.ORG_NAME
    org_contact: str = ""
    """ORG_CONTACT: where HELP sends texters (an email, a phone number or an http(s) URL); unset, HELP
    says to reply to the text and start-up warns. At most 60 GSM-7 characters, so HELP stays in 2 segments."""
    max_reply_segments: int = defaults.MAX_REPLY_SEGMENTS
    """MAX_REPLY_SEGMENTS: the segment budget of every text the service composes (menus, lists, scripts,
    who is being called, call summaries) and of every catalogue text; longer forms are shortened to fit."""
    language_segments: dict[str, tuple[int, int]] = field(default_factory=dict)
    """LANGUAGE_SEGMENTS: a language's reply budget as GSM-7/UCS-2 segments ("es=2/3"), instead of its
    data/languages file's; the default language's is MAX_REPLY_SEGMENTS."""
    language_voices: dict[str, tuple[str, str]] = field(default_factory=dict)
    """LANGUAGE_VOICES: a language's <Say> voice and language ("es=Polly.Lupe-Neural/es-US"), instead of its
    data/languages file's; the default language's are VOICE_NAME and VOICE_LANGUAGE."""
    account_sid: str = ""
    auth_token: str = defaults.DEV_AUTH_TOKEN
    phone_number: str = defaults.DEV_PHONE_NUMBER
    messaging_service_sid: str = ""
    public_base_url: str = ""
    api_base_url: str = ""
    port: int = 5000
    inbound_limit_per_hour: int = defaults.INBOUND_LIMIT_PER_HOUR
    console_login_limit: int = defaults.CONSOLE_LOGIN_LIMIT
    console_timezone: str = defaults.CONSOLE_TIMEZONE
    """CONSOLE_TIMEZONE: the console's times when the browser does not say its zone (send times, the dashboard)."""
    followup_delay_seconds: int = defaults.FOLLOWUP_DELAY_SECONDS
    stop_confirmation: bool = True
    retention_days: int = defaults.RETENTION_DAYS
    quiet_hours: tuple[int, int] | None = defaults.QUIET_HOURS
    broadcast_mps: float = defaults.BROADCAST_MPS
    broadcast_cap_day: int = defaults.BROADCAST_CAP_DAY
    broadcast_cap_week: int = defaults.BROADCAST_CAP_WEEK
    price_per_segment: float = defaults.PRICE_PER_SEGMENT
    broadcast_stale_seconds: int = defaults.BROADCAST_STALE_SECONDS
    later_delay_seconds: int = defaults.LATER_DELAY_SECONDS
    # -- patch-through calls (sms.calls.sessions) --
    call_limit_per_day: int = defaults.CALL_LIMIT_PER_DAY
    call_target_cap_per_day: int = defaults.CALL_TARGET_CAP_PER_DAY
    call_allowed_countries: tuple[str, ...] = defaults.CALL_ALLOWED_COUNTRIES
    call_split_districts: str = "ask"
    call_featured_demand: str = ""
    call_busy_fallback: str = defaults.CALL_BUSY_FALLBACK
    call_ended_terms: str = defaults.CALL_ENDED_TERMS
    call_saturation_routing: bool = True
    call_office_hours: dict[str, tuple[int, int, str]] = field(
        default_factory=lambda: {"congress": (9, 17, "America/New_York")})
    voice_name: str = defaults.VOICE_NAME
    voice_language: str = defaults.VOICE_LANGUAGE
    # -- the Congress data (sms.targets.refresh) --
    data_refresh: str = "off"
    congress_data_url: str = defaults.CONGRESS_DATA_URL
    congress_data_timeout: float = defaults.CONGRESS_DATA_TIMEOUT
    call_split_state_districts: str = "address"
    geocoder_url: str = defaults.GEOCODER_URL  # "" = off
    geocoder_timeout: float = defaults.GEOCODER_TIMEOUT
    data_refresh_max_drop: int = defaults.DATA_REFRESH_MAX_DROP
    state_data_refresh: str = "off"
    state_data_url: str = defaults.STATE_DATA_URL
    targets_verified_since: date | None = None
    """Custom-target phones not verified on or after this day are flagged (None: only never-verified ones)."""
    # -- running beyond one machine (see README "Running in production") --
    redis_ssl_ca_certs: str = ""
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = ""
    redis_sentinel_password: str = ""
    db_pool_size: int = defaults.DB_POOL_SIZE
    db_max_overflow: int = defaults.DB_MAX_OVERFLOW
    db_pool_recycle: int = defaults.DB_POOL_RECYCLE
    proxy_hops: int = 1
    worker_queues: tuple[str, ...] = defaults.QUEUES
    worker_cron: bool = True
    worker_log_level: str = "WARNING"
    """WORKER_LOG_LEVEL: RQ's own log lines in worker.py (INFO: a line per job started and finished)."""
    # -- integrations (sms.integrations) --
    action_network_api_key: str = ""
    action_network_api_url: str = defaults.ACTION_NETWORK_API_URL
    crm_optout_secret: str = ""
    event_retention_days: int = defaults.EVENT_RETENTION_DAYS
    # -- web actions (sms.web): /act pages, the widget, the JSON API --
    widget_origins: tuple[str, ...] = ()
    """WIDGET_ORIGINS: the organizer sites (scheme://host[:port]) that may embed the widget and call the API."""
    web_confirm_numbers: bool = True
    web_limit_per_ip_hour: int = defaults.WEB_LIMIT_PER_IP_HOUR
    web_limit_per_number_day: int = defaults.WEB_LIMIT_PER_NUMBER_DAY
    web_min_fill_seconds: int = defaults.WEB_MIN_FILL_SECONDS
    web_public_counts: tuple[str, ...] = ("total", "demands")
    web_counts_state_min: int = defaults.WEB_COUNTS_STATE_MIN
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def outbox_mode(self) -> bool:
        """True when no Twilio account is configured: sends are recorded locally."""
        return not self.account_sid

    @property
    def dev_token(self) -> bool:
        return self.auth_token == defaults.DEV_AUTH_TOKEN

    @classmethod
    def from_mapping(cls, env: Mapping[str, object]) -> Settings:
        """Build settings from an environment-like mapping; raise ConfigError on bad values."""
        get = lambda key, default="": str(env.get(key) or default).strip()  # noqa: E731
        base_url = get("PUBLIC_BASE_URL").rstrip("/")
        if base_url and not base_url.startswith(("http://", "https://")):
            raise ConfigError("PUBLIC_BASE_URL must start with http:// or https://")
        account_sid = get("TWILIO_ACCOUNT_SID")
        service_sid = get("TWILIO_MESSAGING_SERVICE_SID")
        if service_sid and not service_sid.startswith("MG"):
            raise ConfigError("TWILIO_MESSAGING_SERVICE_SID must start with 'MG'")
        if account_sid and not account_sid.startswith("AC"):
            raise ConfigError("TWILIO_ACCOUNT_SID must start with 'AC'")
        auth_token = get("TWILIO_AUTH_TOKEN")
        if account_sid and not auth_token:
            raise ConfigError("TWILIO_AUTH_TOKEN is required when TWILIO_ACCOUNT_SID is set")
        return cls(
            database_url=get("DATABASE_URL") or default_database_url(),
            redis_url=parse_redis_url(get("REDIS_URL", defaults.DEFAULT_REDIS_URL)),
            secret_key=get("SECRET_KEY"),
            org_name=parse_org_name(get("ORG_NAME", defaults.ORG_NAME)),
            org_contact=parse_contact(get("ORG_CONTACT")),
            max_reply_segments=parse_reply_segments(_int(env, "MAX_REPLY_SEGMENTS", defaults.MAX_REPLY_SEGMENTS)),
            language_segments=parse_language_segments(get("LANGUAGE_SEGMENTS")),
            language_voices=parse_language_voices(get("LANGUAGE_VOICES")),
            account_sid=account_sid,
            auth_token=auth_token or defaults.DEV_AUTH_TOKEN,
            phone_number=get("TWILIO_PHONE_NUMBER", defaults.DEV_PHONE_NUMBER),
            messaging_service_sid=service_sid,
            public_base_url=base_url,
            api_base_url=get("TWILIO_API_BASE_URL").rstrip("/"),
            port=_int(env, "PORT", 5000),
            inbound_limit_per_hour=_int(env, "INBOUND_LIMIT_PER_HOUR", defaults.INBOUND_LIMIT_PER_HOUR),
            console_login_limit=_int(env, "CONSOLE_LOGIN_LIMIT", defaults.CONSOLE_LOGIN_LIMIT),
            console_timezone=parse_zone(get("CONSOLE_TIMEZONE", defaults.CONSOLE_TIMEZONE), "CONSOLE_TIMEZONE"),
            followup_delay_seconds=_int(env, "FOLLOWUP_DELAY_SECONDS", defaults.FOLLOWUP_DELAY_SECONDS),
            stop_confirmation=_bool(env, "STOP_CONFIRMATION", True),
            retention_days=_int(env, "RETENTION_DAYS", defaults.RETENTION_DAYS),
            quiet_hours=parse_quiet_hours(get("QUIET_HOURS", "9-20")),
            broadcast_mps=_positive(env, "BROADCAST_MPS", defaults.BROADCAST_MPS),
            broadcast_cap_day=_int(env, "BROADCAST_CAP_DAY", defaults.BROADCAST_CAP_DAY),
            broadcast_cap_week=_int(env, "BROADCAST_CAP_WEEK", defaults.BROADCAST_CAP_WEEK),
            price_per_segment=_positive(env, "PRICE_PER_SEGMENT", defaults.PRICE_PER_SEGMENT, zero=True),
            broadcast_stale_seconds=_int(env, "BROADCAST_STALE_SECONDS", defaults.BROADCAST_STALE_SECONDS),
            later_delay_seconds=_int(env, "LATER_DELAY_SECONDS", defaults.LATER_DELAY_SECONDS),
            **_call_settings(env, get),
            **_data_settings(env, get),
            **_deployment_settings(env, get),
            **_integration_settings(get),
            **_web_settings(env, get),
            extra={k: str(v) for k, v in env.items() if isinstance(k, str) and k.isupper()},
        )


def _call_settings(env: Mapping[str, object], get: Callable[..., str]) -> dict[str, object]:
    """The CALL_* and VOICE_* keys (see sms.defaults)."""
    split = get("CALL_SPLIT_DISTRICTS", "ask").lower()
    if split not in ("ask", "address", "all"):
        raise ConfigError(f"CALL_SPLIT_DISTRICTS must be ask, address or all, not {split!r}")
    state_split = get("CALL_SPLIT_STATE_DISTRICTS", "address").lower()
    if state_split not in ("ask", "address", "all"):
        raise ConfigError(f"CALL_SPLIT_STATE_DISTRICTS must be ask, address or all, not {state_split!r}")
    countries = tuple(c.strip().upper() for c in get("CALL_ALLOWED_COUNTRIES", "US").split(",") if c.strip())
    if not countries or any(len(c) != 2 or not c.isalpha() for c in countries):
        raise ConfigError("CALL_ALLOWED_COUNTRIES must be ISO country codes like US,CA")
    fallback = get("CALL_BUSY_FALLBACK", defaults.CALL_BUSY_FALLBACK).lower()
    if fallback not in ("offer", "auto", "off"):
        raise ConfigError(f"CALL_BUSY_FALLBACK must be offer, auto or off, not {fallback!r}")
    # A term that ended with no successor in the data: dial keeps calling the seat's DC office
    # (its line usually stays with the seat's staff), skip leaves the member out with a note.
    ended_terms = get("CALL_ENDED_TERMS", defaults.CALL_ENDED_TERMS).lower()
    if ended_terms not in ("dial", "skip"):
        raise ConfigError(f"CALL_ENDED_TERMS must be dial or skip, not {ended_terms!r}")
    return {
        "call_busy_fallback": fallback,
        "call_ended_terms": ended_terms,
        "call_office_hours": parse_office_hours(get("CALL_OFFICE_HOURS", defaults.CALL_OFFICE_HOURS)),
        "call_saturation_routing": _bool(env, "CALL_SATURATION_ROUTING", True),
        "call_limit_per_day": _int(env, "CALL_LIMIT_PER_DAY", defaults.CALL_LIMIT_PER_DAY),
        "call_target_cap_per_day": _int(env, "CALL_TARGET_CAP_PER_DAY", defaults.CALL_TARGET_CAP_PER_DAY),
        "call_allowed_countries": countries,
        "call_split_districts": split,
        "call_split_state_districts": state_split,
        "call_featured_demand": get("CALL_FEATURED_DEMAND").upper(),
        "voice_name": get("VOICE_NAME", defaults.VOICE_NAME),
        "voice_language": get("VOICE_LANGUAGE", defaults.VOICE_LANGUAGE),
    }


def _schedule(name: str, value: str) -> str:
    """A data refresh's schedule: off or daily."""
    value = value.lower()
    if value not in ("off", "daily"):
        raise ConfigError(f"{name} must be off or daily, not {value!r}")
    return value


def _http_url(name: str, value: str) -> str:
    """A data source's URL: http:// or https://."""
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://, not {value!r}")
    return value


def _data_settings(env: Mapping[str, object], get: Callable[..., str]) -> dict[str, object]:
    """DATA_REFRESH, CONGRESS_DATA_* and STATE_DATA_* (see sms.targets.refresh, sms.targets.state_refresh)."""
    refresh = _schedule("DATA_REFRESH", get("DATA_REFRESH", "off"))
    url = _http_url("CONGRESS_DATA_URL", get("CONGRESS_DATA_URL", defaults.CONGRESS_DATA_URL))
    max_drop = _int(env, "DATA_REFRESH_MAX_DROP", defaults.DATA_REFRESH_MAX_DROP)
    if max_drop > 100:
        raise ConfigError(f"DATA_REFRESH_MAX_DROP is a percentage (0-100), not {max_drop}")
    since = get("TARGETS_VERIFIED_SINCE")
    try:
        verified_since = date.fromisoformat(since) if since else None
    except ValueError:
        raise ConfigError(f"TARGETS_VERIFIED_SINCE must be a date YYYY-MM-DD, not {since!r}") from None
    geocoder = get("GEOCODER_URL", defaults.GEOCODER_URL).strip()
    geocoder = "" if geocoder.lower() in ("", "off") else geocoder
    if geocoder and not geocoder.startswith(("http://", "https://")):
        raise ConfigError(f"GEOCODER_URL must start with http:// or https://, or be off, not {geocoder!r}")
    timeout = _positive(env, "GEOCODER_TIMEOUT", defaults.GEOCODER_TIMEOUT)
    if timeout > defaults.GEOCODER_TIMEOUT_MAX:
        raise ConfigError(f"GEOCODER_TIMEOUT must be at most {defaults.GEOCODER_TIMEOUT_MAX:g} seconds (the texter's "
                          f"reply waits on it, and Twilio gives up after 15), not {timeout:g}")
    state_refresh = _schedule("STATE_DATA_REFRESH", get("STATE_DATA_REFRESH", "off"))
    state_url = _http_url("STATE_DATA_URL", get("STATE_DATA_URL", defaults.STATE_DATA_URL))
    return {"data_refresh": refresh, "congress_data_url": url, "data_refresh_max_drop": max_drop,
            "state_data_refresh": state_refresh, "state_data_url": state_url,
            "targets_verified_since": verified_since,
            "congress_data_timeout": _positive(env, "CONGRESS_DATA_TIMEOUT", defaults.CONGRESS_DATA_TIMEOUT),
            "geocoder_url": geocoder.rstrip("/"), "geocoder_timeout": timeout}


def _deployment_settings(env: Mapping[str, object], get: Callable[..., str]) -> dict[str, object]:
    """Redis TLS and Sentinel, the SQL pool, proxy hops and the worker's queues and log level."""
    ca_certs = get("REDIS_SSL_CA_CERTS")
    if ca_certs and not Path(ca_certs).is_file():
        raise ConfigError(f"REDIS_SSL_CA_CERTS: no such file {ca_certs!r}")
    sentinels = parse_sentinels(get("REDIS_SENTINELS"))
    master = get("REDIS_SENTINEL_MASTER")
    if sentinels and not master:
        raise ConfigError("REDIS_SENTINEL_MASTER is required when REDIS_SENTINELS is set")
    return {
        "redis_ssl_ca_certs": ca_certs,
        "redis_sentinels": sentinels,
        "redis_sentinel_master": master,
        "redis_sentinel_password": get("REDIS_SENTINEL_PASSWORD"),
        "db_pool_size": _int(env, "DB_POOL_SIZE", defaults.DB_POOL_SIZE),
        "db_max_overflow": _int(env, "DB_MAX_OVERFLOW", defaults.DB_MAX_OVERFLOW),
        "db_pool_recycle": _int(env, "DB_POOL_RECYCLE", defaults.DB_POOL_RECYCLE),
        "proxy_hops": _int(env, "PROXY_HOPS", 1),
        "worker_queues": parse_queues(get("WORKER_QUEUES"), "WORKER_QUEUES") or defaults.QUEUES,
        "worker_cron": _bool(env, "WORKER_CRON", True),
        "worker_log_level": parse_log_level(get("WORKER_LOG_LEVEL", "WARNING"), "WORKER_LOG_LEVEL"),
    }


def _integration_settings(get: Callable[..., str]) -> dict[str, object]:
    """Action Network and the CRM's signed opt-outs (see docs/integrations.md)."""
    api_url = get("ACTION_NETWORK_API_URL", defaults.ACTION_NETWORK_API_URL).rstrip("/")
    problem = https_url_problem(api_url)
    if problem:
        raise ConfigError(f"ACTION_NETWORK_API_URL {problem}")
    return {
        "action_network_api_key": get("ACTION_NETWORK_API_KEY"),
        "action_network_api_url": api_url,
        "crm_optout_secret": get("CRM_OPTOUT_SECRET"),
        "event_retention_days": _event_retention(get("EVENT_RETENTION_DAYS", str(defaults.EVENT_RETENTION_DAYS))),
    }


PUBLIC_COUNTS = ("total", "demands", "states")


def _web_settings(env: Mapping[str, object], get: Callable[..., str]) -> dict[str, object]:
    """WIDGET_ORIGINS and the WEB_* keys (see docs/web-actions.md)."""
    counts = get("WEB_PUBLIC_COUNTS", defaults.WEB_PUBLIC_COUNTS).lower()
    shown = () if counts in ("off", "none") else tuple(dict.fromkeys(
        c.strip() for c in counts.replace(" ", ",").split(",") if c.strip()))
    unknown = [c for c in shown if c not in PUBLIC_COUNTS]
    if unknown:
        raise ConfigError(f"WEB_PUBLIC_COUNTS: unknown {', '.join(unknown)} "
                          f"(any of {', '.join(PUBLIC_COUNTS)}, or off)")
    return {
        "widget_origins": parse_origins(get("WIDGET_ORIGINS")),
        "web_confirm_numbers": _bool(env, "WEB_CONFIRM_NUMBERS", True),
        "web_limit_per_ip_hour": _int(env, "WEB_LIMIT_PER_IP_HOUR", defaults.WEB_LIMIT_PER_IP_HOUR),
        "web_limit_per_number_day": _int(env, "WEB_LIMIT_PER_NUMBER_DAY", defaults.WEB_LIMIT_PER_NUMBER_DAY),
        "web_min_fill_seconds": _int(env, "WEB_MIN_FILL_SECONDS", defaults.WEB_MIN_FILL_SECONDS),
        "web_public_counts": shown,
        "web_counts_state_min": max(1, _int(env, "WEB_COUNTS_STATE_MIN", defaults.WEB_COUNTS_STATE_MIN)),
    }


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?")


def parse_origins(value: str) -> tuple[str, ...]:
    """``https://example.org, http://localhost:8000`` into origins as browsers send them (lower case, no slash)."""
    origins = []
    for part in filter(None, (p.strip() for p in value.replace(" ", ",").split(","))):
        origin = part.rstrip("/").lower()
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"WIDGET_ORIGINS: {part!r} is not an origin like https://example.org")
        origins.append(origin)
    return tuple(dict.fromkeys(origins))

def _event_retention(raw: str) -> int:
    """EVENT_RETENTION_DAYS: 0 keeps everything; else longer than the retry window, so no retry outlives its row."""
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(f"EVENT_RETENTION_DAYS must be a whole number of days, not {raw!r}") from None
    if days < 0 or 0 < days * 86400 <= defaults.EVENT_RETRY_FOR_SECONDS:
        raise ConfigError(f"EVENT_RETENTION_DAYS must be 0 (keep everything) or more than the "
                          f"{defaults.EVENT_RETRY_FOR_SECONDS // 3600} h retry window, not {days}")
    return days


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""Hosts an integration may reach over plain http:// (tests and development)."""


def https_url_problem(url: str) -> str | None:
    """Why ``url`` may not receive personal data (None if it may): https:// only, except on this machine."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return "is not a URL"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host in LOCAL_HOSTS:
        return None
    return "must start with https:// (http:// only for localhost or 127.0.0.1)"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_log_level(value: str, key: str) -> str:
    """A logging level name (any case) as ``logging`` spells it."""
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{key} must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return level


def startup_warnings(settings: Settings, testing: bool = False) -> list[str]:
    """What a serving process says once at start-up about a configuration fit only for development."""
    lines = []
    if settings.outbox_mode:
        lines.append("No TWILIO_ACCOUNT_SID: outbox mode, nothing leaves this machine.")
    if settings.dev_token:
        lines.append("No TWILIO_AUTH_TOKEN: webhooks must be signed with the development token "
                     f"{settings.auth_token!r}.")
    if not settings.org_contact:
        lines.append(f"No ORG_CONTACT: HELP tells texters to {defaults.ORG_CONTACT_FALLBACK}; "
                     "set an email, phone number or URL.")
    if not settings.secret_key and not testing:
        lines.append("No SECRET_KEY: using an insecure development key.")
    return lines


def parse_redis_url(url: str) -> str:
    """Check that ``url`` is a URL redis-py can open (redis://, rediss:// for TLS, unix://)."""
    from redis.connection import parse_url

    try:
        parse_url(url)
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL is not a Redis URL ({exc})") from None
    return url


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}")
_URL = re.compile(r"https?://[^\s/]+\.[^\s]+")
_PHONE = re.compile(r"\+?[\d\s().-]{7,20}")


def parse_contact(value: str) -> str:
    """Check ORG_CONTACT: an email, a phone number (7+ digits) or an http(s) URL, short and GSM-7."""
    if not value:
        return ""
    looks_right = _EMAIL.fullmatch(value) or _URL.fullmatch(value) or (
        _PHONE.fullmatch(value) and sum(ch.isdigit() for ch in value) >= 7)
    if not looks_right:
        raise ConfigError(f"ORG_CONTACT must be an email address, a phone number or an http(s) URL, not {value!r}")
    if len(value) > defaults.ORG_CONTACT_MAX or not is_gsm7(value):
        raise ConfigError(f"ORG_CONTACT must be at most {defaults.ORG_CONTACT_MAX} plain characters (it goes in HELP)")
    return value


def parse_org_name(value: str) -> str:
    """Check ORG_NAME: at most ORG_NAME_MAX plain (GSM-7) characters, the length texts are checked with."""
    if len(value) > defaults.ORG_NAME_MAX or not is_gsm7(value):
        raise ConfigError(f"ORG_NAME must be at most {defaults.ORG_NAME_MAX} plain characters (it goes in HELP "
                          "and the opt-in disclosure)")
    return value


def parse_reply_segments(value: int) -> int:
    """Check MAX_REPLY_SEGMENTS against its range."""
    low, high = defaults.MAX_REPLY_SEGMENTS_RANGE
    if not low <= value <= high:
        raise ConfigError(f"MAX_REPLY_SEGMENTS must be from {low} to {high}, not {value}")
    return value


def _language_pairs(value: str, name: str, example: str) -> dict[str, tuple[str, str]]:
    pairs: dict[str, tuple[str, str]] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        code, _, rest = item.partition("=")
        first, _, second = rest.partition("/")
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", code.strip()) or not first.strip() or not second.strip():
            raise ConfigError(f"{name} must look like {example!r}, not {item!r}")
        pairs[code.strip()] = (first.strip(), second.strip())
    return pairs


def parse_language_segments(value: str) -> dict[str, tuple[int, int]]:
    """LANGUAGE_SEGMENTS: ``es=2/3,fr=2/3`` (GSM-7/UCS-2 segments per language), in MAX_REPLY_SEGMENTS' range."""
    low, high = defaults.MAX_REPLY_SEGMENTS_RANGE
    budgets = {}
    for code, (gsm7, ucs2) in _language_pairs(value, "LANGUAGE_SEGMENTS", "es=2/3").items():
        if not (gsm7.isdigit() and ucs2.isdigit() and low <= int(gsm7) <= high and low <= int(ucs2) <= high):
            raise ConfigError(f"LANGUAGE_SEGMENTS for {code}: segments must be from {low} to {high}, "
                              f"not {gsm7}/{ucs2}")
        budgets[code] = (int(gsm7), int(ucs2))
    return budgets


def parse_language_voices(value: str) -> dict[str, tuple[str, str]]:
    """LANGUAGE_VOICES: ``es=Polly.Lupe-Neural/es-US`` (a <Say> voice and language per language)."""
    return _language_pairs(value, "LANGUAGE_VOICES", "es=Polly.Lupe-Neural/es-US")


def parse_sentinels(value: str) -> tuple[tuple[str, int], ...]:
    """``"10.0.0.1:26379,10.0.0.2:26379"`` into ((host, port), ...); the port defaults to 26379."""
    out = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "26379")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"REDIS_SENTINELS: {part!r} is not host:port")
        out.append((host, int(port)))
    return tuple(out)


def parse_queues(value: str, key: str) -> tuple[str, ...]:
    """Queue names from a comma- or space-separated list, each one of ``defaults.QUEUES``."""
    names = tuple(dict.fromkeys(n for n in value.replace(",", " ").split() if n))
    unknown = [n for n in names if n not in defaults.QUEUES]
    if unknown:
        raise ConfigError(f"{key}: unknown queue {', '.join(unknown)} (queues: {', '.join(defaults.QUEUES)})")
    return names


def default_database_url() -> str:
    """SQLite file under var/ in the project root."""
    path = ROOT / defaults.DEFAULT_SQLITE_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def parse_quiet_hours(value: str) -> tuple[int, int] | None:
    """Parse ``"9-20"`` into (9, 20); ``"off"`` disables quiet hours."""
    if value.lower() in ("off", "none", "0", "false"):
        return None
    try:
        start, end = (int(part) for part in value.split("-"))
    except ValueError:
        raise ConfigError(f"QUIET_HOURS must look like 9-20 or off, not {value!r}") from None
    if not (0 <= start < end <= 24):
        raise ConfigError(f"QUIET_HOURS must be two hours 0-24, start before end, not {value!r}")
    return start, end


def parse_zone(value: str, key: str) -> str:
    """An IANA time zone name (``America/Chicago``) that this machine's zone database knows."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"{key} must be a time zone like America/Chicago, not {value!r}") from None
    return value


def parse_office_hours(value: str) -> dict[str, tuple[int, int, str]]:
    """``congress=9-17@America/New_York,louisville_council=9-16@America/Kentucky/Louisville``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    out: dict[str, tuple[int, int, str]] = {}
    if value.strip().lower() in ("off", "none"):
        return out  # every office always open (tests pin the clock-dependent behaviour off)
    for part in filter(None, (p.strip() for p in value.split(","))):
        name, _, rest = part.partition("=")
        span, _, zone = rest.partition("@")
        start, _, end = span.partition("-")
        try:
            hours = (int(start), int(end), zone.strip() or "America/New_York")
            ZoneInfo(hours[2])
        except (ValueError, ZoneInfoNotFoundError):
            raise ConfigError(f"CALL_OFFICE_HOURS: {part!r} is not set=START-END@Zone") from None
        if not name.strip() or not 0 <= hours[0] < hours[1] <= 24:
            raise ConfigError(f"CALL_OFFICE_HOURS: {part!r} is not set=START-END@Zone")
        out[name.strip()] = hours
    return out


def _int(env: Mapping[str, object], key: str, default: int) -> int:
    raw = env.get(key)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{key} must not be negative")
    return value


def _positive(env: Mapping[str, object], key: str, default: float, zero: bool = False) -> float:
    raw = env.get(key)
    if raw in (None, ""):
        return default
    try:
        value = float(str(raw))
    except ValueError:
        raise ConfigError(f"{key} must be a number, not {raw!r}") from None
    if value < 0 or (value == 0 and not zero):
        raise ConfigError(f"{key} must be {'zero or more' if zero else 'more than zero'}, not {raw!r}")
    return value


def _bool(env: Mapping[str, object], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key} must be true or false, not {raw!r}")


def load_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the process environment overlaid on values from ``.env`` (environment wins)."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None}
    values.update(os.environ if environ is None else environ)
    return values
