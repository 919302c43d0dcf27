"""The settings a process runs with, by key and masked, and how the worker's compare with them.

``report(settings)`` lists every key ``sms.settings`` reads, as this process runs with it:
secrets and URL passwords are replaced by a short fingerprint (the first hex digits of their
SHA-256), so two processes can be compared without showing them. The worker publishes its
report to Redis when it starts (``publish``); the console's Settings page and the CLI compare
their own with it (``differences``). Every process builds its settings the same way,
``Settings.from_mapping(load_env())``: the environment over ``.env`` in the project root.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis import Redis
from redis.exceptions import RedisError

from sms import defaults
from sms.settings import Settings
from sms.store import utcnow

GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Twilio", (("TWILIO_ACCOUNT_SID", "account_sid"), ("TWILIO_AUTH_TOKEN", "auth_token"),
                ("TWILIO_PHONE_NUMBER", "phone_number"), ("TWILIO_MESSAGING_SERVICE_SID", "messaging_service_sid"),
                ("TWILIO_API_BASE_URL", "api_base_url"), ("PUBLIC_BASE_URL", "public_base_url"))),
    ("Texting", (("ORG_NAME", "org_name"), ("ORG_CONTACT", "org_contact"), ("STOP_CONFIRMATION", "stop_confirmation"),
                 ("MAX_REPLY_SEGMENTS", "max_reply_segments"), ("LANGUAGE_SEGMENTS", "language_segments"),
                 ("INBOUND_LIMIT_PER_HOUR", "inbound_limit_per_hour"),
                 ("FOLLOWUP_DELAY_SECONDS", "followup_delay_seconds"), ("QUIET_HOURS", "quiet_hours"),
                 ("LATER_DELAY_SECONDS", "later_delay_seconds"), ("RETENTION_DAYS", "retention_days"))),
    ("Broadcasts", (("BROADCAST_MPS", "broadcast_mps"), ("BROADCAST_CAP_DAY", "broadcast_cap_day"),
                    ("BROADCAST_CAP_WEEK", "broadcast_cap_week"), ("PRICE_PER_SEGMENT", "price_per_segment"),
                    ("BROADCAST_STALE_SECONDS", "broadcast_stale_seconds"))),
    ("Calls", (("CALL_OFFICE_HOURS", "call_office_hours"), ("CALL_LIMIT_PER_DAY", "call_limit_per_day"),
               ("CALL_TARGET_CAP_PER_DAY", "call_target_cap_per_day"),
               ("CALL_ALLOWED_COUNTRIES", "call_allowed_countries"), ("CALL_SPLIT_DISTRICTS", "call_split_districts"),
               ("CALL_SPLIT_STATE_DISTRICTS", "call_split_state_districts"),
               ("CALL_FEATURED_DEMAND", "call_featured_demand"), ("CALL_BUSY_FALLBACK", "call_busy_fallback"),
               ("CALL_ENDED_TERMS", "call_ended_terms"), ("CALL_SATURATION_ROUTING", "call_saturation_routing"),
               ("VOICE_NAME", "voice_name"), ("VOICE_LANGUAGE", "voice_language"),
               ("LANGUAGE_VOICES", "language_voices"))),
    ("Congress data", (("DATA_REFRESH", "data_refresh"), ("CONGRESS_DATA_URL", "congress_data_url"),
                       ("CONGRESS_DATA_TIMEOUT", "congress_data_timeout"),
                       ("DATA_REFRESH_MAX_DROP", "data_refresh_max_drop"),
                       ("STATE_DATA_REFRESH", "state_data_refresh"), ("STATE_DATA_URL", "state_data_url"),
                       ("TARGETS_VERIFIED_SINCE", "targets_verified_since"), ("GEOCODER_URL", "geocoder_url"),
                       ("GEOCODER_TIMEOUT", "geocoder_timeout"))),
    ("Integrations", (("ACTION_NETWORK_API_KEY", "action_network_api_key"),
                      ("ACTION_NETWORK_API_URL", "action_network_api_url"),
                      ("CRM_OPTOUT_SECRET", "crm_optout_secret"),
                      ("EVENT_RETENTION_DAYS", "event_retention_days"))),
    ("Web actions", (("WIDGET_ORIGINS", "widget_origins"), ("WEB_CONFIRM_NUMBERS", "web_confirm_numbers"),
                     ("WEB_LIMIT_PER_IP_HOUR", "web_limit_per_ip_hour"),
                     ("WEB_LIMIT_PER_NUMBER_DAY", "web_limit_per_number_day"),
                     ("WEB_MIN_FILL_SECONDS", "web_min_fill_seconds"), ("WEB_PUBLIC_COUNTS", "web_public_counts"),
                     ("WEB_COUNTS_STATE_MIN", "web_counts_state_min"))),
    ("Console", (("SECRET_KEY", "secret_key"), ("CONSOLE_LOGIN_LIMIT", "console_login_limit"),
                 ("CONSOLE_TIMEZONE", "console_timezone"))),
    ("Storage and processes", (
        ("DATABASE_URL", "database_url"), ("DB_POOL_SIZE", "db_pool_size"), ("DB_MAX_OVERFLOW", "db_max_overflow"),
        ("DB_POOL_RECYCLE", "db_pool_recycle"), ("REDIS_URL", "redis_url"),
        ("REDIS_SSL_CA_CERTS", "redis_ssl_ca_certs"),
        ("REDIS_SENTINELS", "redis_sentinels"), ("REDIS_SENTINEL_MASTER", "redis_sentinel_master"),
        ("REDIS_SENTINEL_PASSWORD", "redis_sentinel_password"), ("PORT", "port"), ("PROXY_HOPS", "proxy_hops"),
        ("WORKER_QUEUES", "worker_queues"), ("WORKER_CRON", "worker_cron"), ("WORKER_LOG_LEVEL", "worker_log_level"))),
)
"""Every setting by group, as (environment key, ``Settings`` field)."""
SECRETS = frozenset({"SECRET_KEY", "TWILIO_AUTH_TOKEN", "REDIS_SENTINEL_PASSWORD", "ACTION_NETWORK_API_KEY",
                     "CRM_OPTOUT_SECRET"})
"""Shown only as ``set (fingerprint ...)``; passwords inside DATABASE_URL and REDIS_URL likewise."""
PER_PROCESS = frozenset({"PORT"})
"""Keys that may differ between processes on purpose (honcho gives each process of ``make run`` its own PORT)."""
REDIS_KEY = "actionline:settings:{role}"
"""Where a process publishes its report (``role`` is ``worker``); overwritten at each start."""


@dataclass(frozen=True)
class Published:
    """A report some process published: its values, when it started, and which process it is."""

    values: dict[str, str]
    started_at: datetime
    process: str


def report(settings: Settings) -> dict[str, str]:
    """Every key as shown (secrets masked), in ``GROUPS`` order."""
    return {key: _shown(key, getattr(settings, name)) for _, keys in GROUPS for key, name in keys}


def grouped(values: Mapping[str, str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``values`` (a report) by group, for a page."""
    return [(group, [(key, values.get(key, "")) for key, _ in keys]) for group, keys in GROUPS]


def _shown(key: str, value: Any) -> str:
    if key in SECRETS:
        if key == "TWILIO_AUTH_TOKEN" and value == defaults.DEV_AUTH_TOKEN:
            return "development token (not secret)"
        return f"set (fingerprint {_fingerprint(value)})" if value else "(not set)"
    if key in ("DATABASE_URL", "REDIS_URL"):
        return _masked_url(value)
    if key == "TWILIO_ACCOUNT_SID" and value:
        return f"{value[:6]}…{value[-4:]}"
    if key == "QUIET_HOURS":
        return "off" if value is None else f"{value[0]}-{value[1]}"
    if key == "CALL_OFFICE_HOURS":
        return ",".join(f"{name}={a}-{b}@{zone}" for name, (a, b, zone) in value.items()) or "off (always open)"
    if key == "REDIS_SENTINELS":
        return ",".join(f"{host}:{port}" for host, port in value) or "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if value not in ("", None) else "(not set)"


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def _masked_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    host = parts.hostname or ""
    netloc = f"{user}***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)) + f" (password fingerprint {_fingerprint(parts.password)})"


def publish(redis: Redis, settings: Settings, role: str = "worker", now: datetime | None = None) -> bool:
    """Store this process's report under ``role`` (False, and nothing else, if Redis does not answer)."""
    process = f"{socket.gethostname()} pid {os.getpid()}"
    payload = {"values": json.dumps(report(settings)), "started_at": (now or utcnow()).isoformat(),
               "process": process}
    try:
        redis.delete(REDIS_KEY.format(role=role))
        redis.hset(REDIS_KEY.format(role=role), mapping=payload)
    except RedisError:
        return False
    return True


def published(redis: Redis, role: str = "worker") -> Published | None:
    """The report ``role`` published last; None if there is none (or Redis does not answer)."""
    try:
        raw = redis.hgetall(REDIS_KEY.format(role=role))
    except RedisError:
        return None
    if not raw:
        return None
    text = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
            for k, v in raw.items()}
    try:
        return Published(json.loads(text["values"]), datetime.fromisoformat(text["started_at"]), text["process"])
    except (KeyError, ValueError):
        return None


def differences(mine: Mapping[str, str], theirs: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(key, mine, theirs) for every key whose shown value differs, in ``GROUPS`` order (not ``PER_PROCESS``)."""
    keys = [key for _, group in GROUPS for key, _ in group if key not in PER_PROCESS]
    return [(key, mine.get(key, "(unknown)"), theirs.get(key, "(unknown)")) for key in keys
            if mine.get(key) != theirs.get(key)]
