"""Tunables in one place, each documented where it is defined."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""The shipped data: the demands catalogue, Congress, ZIP maps, time zones (see data/SOURCES.md)."""

QUEUES = ("high", "default", "bulk")
"""RQ queues, in priority order: replies and calls, follow-ups, broadcasts."""

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""Where Redis is when REDIS_URL is unset."""

DB_POOL_SIZE = 5
"""PostgreSQL connections each process keeps open (DB_POOL_SIZE); SQLite ignores it."""

DB_MAX_OVERFLOW = 10
"""Extra PostgreSQL connections a process may open at a peak (DB_MAX_OVERFLOW)."""

DB_POOL_RECYCLE = 1800
"""Seconds after which a pooled connection is replaced (DB_POOL_RECYCLE; 0 = never), before a proxy drops it."""

DEFAULT_SQLITE_PATH = "var/actionline.db"
"""SQLite file used when DATABASE_URL is unset (relative to the project root)."""

DEV_AUTH_TOKEN = "actionline-dev-token-not-secret"
"""Signature key used when TWILIO_AUTH_TOKEN is unset; printed at start-up."""

DEV_PHONE_NUMBER = "+15005550006"
"""The service's own number in outbox mode (Twilio's magic test number)."""

ORG_NAME = "Action Line"
"""Organisation name used in HELP and the opt-in disclosure."""

ORG_CONTACT_FALLBACK = "reply to this text"
"""What HELP gives as the contact when ORG_CONTACT is unset (organizers read replies in the console inbox)."""

ORG_NAME_MAX = 40
"""ORG_NAME's length limit: catalogue texts are checked with a name this long in place of {org}."""

ORG_CONTACT_MAX = 60
"""ORG_CONTACT's length limit: HELP must stay within 2 GSM-7 segments with a long organisation name."""

HINT_INTERVAL_SECONDS = 24 * 3600
"""At most one "Reply STOP to stop these texts" (unclear texts) and one "Reply START" (opted-out
numbers texting keywords) per texter in this long."""

MAX_REPLY_SEGMENTS = 2
"""Every text the service composes, and every catalogue text, fits in this many SMS segments
(MAX_REPLY_SEGMENTS; ``sms.messaging.budget`` shortens composed texts until they fit)."""

MAX_REPLY_SEGMENTS_RANGE = (2, 10)
"""MAX_REPLY_SEGMENTS' valid values: one segment cannot hold the menu; ten is Twilio's advice for a long text."""

INBOUND_LIMIT_PER_HOUR = 30
"""Texts per sender per hour that get an answer; beyond it they are only recorded."""

CONSOLE_LOGIN_LIMIT = 10
"""Console login attempts per 15 minutes, per email and (x3) per client address."""

CONSOLE_TIMEZONE = "America/New_York"
"""The console's time zone when the organizer's browser does not say its own (CONSOLE_TIMEZONE)."""

FOLLOWUP_DELAY_SECONDS = 24 * 3600
"""Delay before the follow-up to a new subscriber's first keyword."""

SWEEP_INTERVAL_SECONDS = 30
"""How often the sweeper re-enqueues due messages that Redis lost."""

SWEEP_GRACE_SECONDS = 60
"""A due message is only re-enqueued once it has waited this long past its time."""

SCHEDULE_AHEAD_SECONDS = 2 * SWEEP_INTERVAL_SECONDS
"""A follow-up or LATER text due further ahead than this gets no RQ job when it is planned: the sweeper
enqueues it when it comes this close. Redis then holds no job per texter for a day (a broadcast's
replies plan tens of thousands), and the webhook that planned it skips the enqueue."""

IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600
"""How long Redis remembers a job's idempotency key (SQL stays the source of truth)."""

RETENTION_DAYS = 730
"""Personal data of a texter silent this long is erased (the PRIVACY text promises 2 years)."""

QUIET_HOURS = (9, 20)
"""Non-urgent messages go out between these local hours only."""

RETRY_INTERVALS = (10, 60, 300)
"""Back-off, in seconds, for transient transport errors (429/5xx); jittered."""

RETRY_AFTER_MAX_SECONDS = 3600
"""A Twilio Retry-After longer than this is capped (a retry is still better than a lost text)."""

TWILIO_TIMEOUT_SECONDS = 15.0
"""Connect and read timeout of every Twilio REST request: a hung API never hangs a worker."""

PERMANENT_ERROR_CODES = frozenset({21211, 21212, 21214, 21408, 21610, 21612, 21614, 30003, 30005, 30006, 30007})
"""Twilio error codes that are never retried."""

OPTED_OUT_ERROR_CODE = 21610
"""Twilio: 'Attempt to send to unsubscribed recipient' — mark the subscriber opted out."""

BROADCAST_MPS = 1.0
"""Broadcast messages per second per sender: one US long code's safe rate (BROADCAST_MPS)."""

BROADCAST_BATCH_SECONDS = 1.0
"""A dispatch job sends about this many seconds' worth of messages, so `high` waits at most that long."""

BROADCAST_CATCH_UP_SECONDS = 1.0
"""Send slots missed by less than this (job overhead) are still used; the pacing bucket's depth."""

OPTOUT_FRESH_SECONDS = 0.1
"""An opt-out read is reused for at most this long of sends (at 1 msg/s: every message reads)."""

OPTOUT_CHECK_MAX = 100
"""At most this many sends share one opt-out read."""

ANALYZE_AFTER_ROWS = 50_000
"""PostgreSQL: refresh table statistics after planning this many deliveries at once."""

BROADCAST_MAX_BATCH = 500
"""Upper bound on the rows one dispatch job claims, whatever the rate."""

BROADCAST_COMMIT_EVERY = 250
"""Results are committed every this many sends, bounding what a killed worker leaves unknown."""

BROADCAST_CAP_DAY = 2
"""At most this many broadcasts per subscriber per 24 hours (BROADCAST_CAP_DAY; 0 = no cap)."""

BROADCAST_CAP_WEEK = 5
"""At most this many broadcasts per subscriber per 7 days (BROADCAST_CAP_WEEK; 0 = no cap)."""

PRICE_PER_SEGMENT = 0.0083
"""Estimated cost of one outbound SMS segment in USD (PRICE_PER_SEGMENT), for previews."""

BROADCAST_STALE_SECONDS = 120
"""A delivery left in `sending` this long is settled by asking the transport (BROADCAST_STALE_SECONDS)."""

BROADCAST_SWEEP_SECONDS = 15
"""How often the broadcast sweeper runs (starts due broadcasts, revives stalled ones, fires reminders)."""

LATER_DELAY_SECONDS = 3 * 3600
"""`LATER` texts the subscriber again after this long, moved into their local daytime."""

DAYTIME = (9, 20)
"""Local hours used for `LATER` when QUIET_HOURS is off."""

MAX_BROADCAST_SEGMENTS = 10
"""A broadcast longer than this many segments is refused (cost and carrier filtering)."""
CALL_LIMIT_PER_DAY = 5
"""Call sessions one caller may start per day (CALL_LIMIT_PER_DAY; 0 = no limit)."""

CALL_TARGET_CAP_PER_DAY = 0
"""Calls connected to one office per day before it is skipped (CALL_TARGET_CAP_PER_DAY; 0 = no cap)."""

CALL_ALLOWED_COUNTRIES = ("US",)
"""Countries (ISO codes) whose numbers may be called back (CALL_ALLOWED_COUNTRIES, comma-separated)."""

VOICE_NAME = "Polly.Joanna"
"""Twilio <Say> voice for the call script (VOICE_NAME)."""

VOICE_LANGUAGE = "en-US"
"""Twilio <Say> language (VOICE_LANGUAGE)."""

CALL_DIAL_TIMEOUT = 30
"""Seconds an office's line may ring before the caller moves on."""

CALL_ACTIVE_MINUTES = 15
"""A call session younger than this and not finished blocks a second CALL (no double call-backs)."""

CALL_GATHER_TIMEOUT = 8
"""Seconds to wait for the caller's key press before the voicemail guard hangs up."""

CALL_PLACE_WINDOW_SECONDS = 120
"""A queued call-back not placed within this is expired rather than placed late (the texter moved on)."""

SATURATION_WINDOW_SECONDS = 15 * 60
"""Sliding window of dial outcomes that says how jammed an office is right now."""

SATURATION_MIN_SAMPLES = 3
"""Dials an office needs in the window before its saturation is trusted (fewer count as clear)."""

CALL_BUSY_FALLBACK = "offer"
"""After a busy/no-answer/failed Dial: offer the district office (skippable), dial it (auto) or off."""

CALL_RETRY_REMINDER_HOURS = 3
"""When the one reminder about unreached offices is sent (then held to the caller's daytime)."""

OUTCOME_QUESTION = "How did it go? Reply 1 talked, 2 voicemail, 3 no answer."
"""Asked after a call; the answer is stored on the call's legs."""

CALL_OFFICE_HOURS = "congress=9-17@America/New_York"
"""Office hours per target set (CALL_OFFICE_HOURS; off = always open); district offices use their state's zone."""

CALL_ENDED_TERMS = "dial"
"""A member whose term ended with no successor in the data: keep dialing the seat's office (dial) or skip them."""

TERMS_ENDING_SOON_DAYS = 45
"""Terms (and a ZIP map's Congress) ending within this many days are reported as ending soon."""

CONGRESS_DATA_URL = "https://unitedstates.github.io/congress-legislators/"
"""Where ``flask refresh-congress`` fetches congress-legislators' published files (CONGRESS_DATA_URL)."""

GEOCODER_URL = "https://geocoding.geo.census.gov/geocoder"
"""The US Census Bureau's geocoder (``/geographies/onelineaddress``): an address → its districts (GEOCODER_URL)."""
GEOCODER_TIMEOUT = 4.0
"""Seconds the whole geocoder request may take (connect and read); the webhook answers within it (GEOCODER_TIMEOUT)."""
GEOCODER_TIMEOUT_MAX = 8.0
"""The most GEOCODER_TIMEOUT may be: with the rest of a turn, well inside Twilio's 15 s."""
GEOCODER_BREAKER_FAILURES = 3
"""Failures in a row after which the geocoder is not asked for GEOCODER_BREAKER_SECONDS (texters are asked names)."""
GEOCODER_BREAKER_SECONDS = 300
UNKEPT_MARK_SECONDS = 30 * 60
"""How long after the street address is asked the spool keeps a texter's texts without their words (Redis mark)."""

CONGRESS_DATA_TIMEOUT = 30.0
"""Seconds a refresh waits to connect to, and between bytes from, the data's server (CONGRESS_DATA_TIMEOUT)."""

STATE_DATA_URL = "https://data.openstates.org/people/current/"
"""Where ``flask refresh-states`` fetches Open States' per-state legislator CSVs, ``<st>.csv`` (STATE_DATA_URL)."""

CONGRESS_DATA_MAX_BYTES = 50 * 1024 * 1024
"""A fetched file larger than this is refused (upstream's members YAML is about 1 MB)."""

DATA_REFRESH_MAX_DROP = 20
"""Percent of the members (or district offices) one refresh may drop without --force (DATA_REFRESH_MAX_DROP)."""

REFRESH_MAX_VACANCIES = 20
"""Vacant House and Senate seats a refresh (or ZIP map) may leave before it looks cut or half-published."""

REFRESH_SNAPSHOTS_KEPT = 3
"""Applied refreshes whose replaced data is kept for ``--rollback`` (older snapshots are dropped)."""

DATA_REFRESH_EVERY_HOURS = 20
"""The daily refresh job skips a run this soon after the last scheduled one (worker restarts, several workers)."""

EVENT_ROUTE_SECONDS = 1
"""How often new events are fanned out to their destinations and due deliveries are kicked (cron)."""

EVENT_SETTLE_SECONDS = 1.0
"""An event is fanned out once it is this old, so one committed a moment late (PostgreSQL) keeps its order."""

EVENT_FAN_OUT_BATCH = 1000
"""Events fanned out per routing pass (the rest wait for the next second)."""

EVENT_BATCH = 100
"""Deliveries one drain job claims at a time (sent one by one, in event order)."""

EVENT_DRAIN_SECONDS = 2.0
"""A drain job stops claiming after this long and enqueues its successor, so other queues get a turn."""

EVENT_RETRY_BASE_SECONDS = 10
"""First retry of a failed delivery; each next one waits twice as long (jittered), up to the maximum below."""

EVENT_RETRY_MAX_SECONDS = 3600
"""Longest wait between two attempts of one delivery (and the cap on a Retry-After)."""

EVENT_RETRY_FOR_SECONDS = 24 * 3600
"""A delivery still failing this long after its first attempt is given up (replay it from the console)."""

EVENT_PAUSE_AFTER_SECONDS = 3600
"""A destination that has only failed for this long is paused; its backlog waits for a resume."""

EVENT_STALE_SECONDS = 60
"""A delivery left in `sending` this long (a worker killed mid-request) is sent again (receivers dedupe by id)."""

EVENT_SWEEP_SECONDS = 30
"""How often stale deliveries are reset and failing destinations paused (cron)."""

WEBHOOK_TIMEOUT_SECONDS = (3.05, 10.0)
"""Connect and read timeout of every outgoing integration request (webhooks, Action Network)."""

SIGNATURE_TOLERANCE_SECONDS = 300
"""A signed request (X-ActionLine-Signature) whose timestamp is further from now than this is refused."""

ACTION_NETWORK_API_URL = "https://actionnetwork.org/api/v2"
"""Action Network's OSDI API v2 (ACTION_NETWORK_API_URL)."""

ASK_STALE_DAYS = 180
"""A demand's ask checked longer ago than this is flagged to organizers (bills pass, die, get renumbered)."""

# -- web actions: /act pages, the widget, the JSON API (sms.web) --
WEB_LIMIT_PER_IP_HOUR = 20
"""Call requests (and code requests) one IP address may make per hour (WEB_LIMIT_PER_IP_HOUR; 0 = no limit)."""

WEB_LIMIT_PER_NUMBER_DAY = 3
"""Call requests for one phone number per day from the web (WEB_LIMIT_PER_NUMBER_DAY; 0 = no limit)."""

WEB_MIN_FILL_SECONDS = 3
"""A form posted sooner than this after it was served is a bot's (WEB_MIN_FILL_SECONDS)."""

WEB_TOKEN_MAX_AGE_SECONDS = 2 * 3600
"""A form token older than this is refused (the page is reloaded with a fresh one, nothing typed is lost)."""

WEB_CODE_TTL_SECONDS = 10 * 60
"""How long a texted confirmation code stays valid."""

WEB_CODE_ATTEMPTS = 5
"""Wrong codes allowed for one request before it must be started again."""

WEB_CONFIRMED_SECONDS = 24 * 3600
"""A number confirmed by a texted code is trusted for this long (the "new number in a day" rule)."""

WEB_COUNTS_TTL_SECONDS = 60
"""Public counts are computed at most once per this many seconds (cached in Redis)."""

WEB_COUNTS_STATE_MIN = 10
"""A state's counts are public only from this many calls (WEB_COUNTS_STATE_MIN): no small numbers."""

WEB_PUBLIC_COUNTS = "total,demands"
"""What the public counter shows (WEB_PUBLIC_COUNTS): any of total, demands, states; off for nothing."""

EVENT_RETENTION_DAYS = 30
"""Delivered, failed and skipped event deliveries (and events with none left) older than this are pruned daily."""

EVENT_PRUNE_BATCH = 1000
"""Rows deleted per transaction by the daily event prune (short locks on a large log)."""
