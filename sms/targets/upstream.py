"""Get congress-legislators' published files: over HTTP from ``CONGRESS_DATA_URL``, or from a directory.

unitedstates/congress-legislators publishes each file as YAML, JSON and CSV on its GitHub Pages
site (the default ``CONGRESS_DATA_URL``). The members are fetched as YAML, the one format with
term dates, and the district offices as CSV. A directory given instead (``flask
refresh-congress --source DIR``) may hold the members as YAML or CSV (YAML preferred).

Every request has a connect and a read timeout (``CONGRESS_DATA_TIMEOUT``) and a size limit; an
HTTP error, a rate limit (429, or GitHub's 403 with no requests left), a timeout or a host
that cannot be reached raises ``FetchError`` naming the URL, before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests

from sms import defaults
from sms.errors import DataError, FetchError

MEMBERS = ("legislators-current.yaml", "legislators-current.csv")
"""The members file's names, preferred first (only the first is fetched over HTTP)."""
OFFICES = ("legislators-district-offices.csv",)
USER_AGENT = "ActionLine-congress-refresh (python-requests)"
BLOCK = 1 << 16


@dataclass(frozen=True)
class Files:
    """The two files of one refresh, and where they came from."""

    members: Path
    offices: Path
    source: str  # the URL base or the directory
    members_from: str  # the members file's URL or path (recorded with the import)
    offices_from: str
    day: date | None = None  # the members file's Last-Modified date, when a server gave one


def local(directory: Path | str) -> Files:
    """The files in ``directory``; DataError naming what is missing."""
    directory = Path(directory)

    def first(names: tuple[str, ...]) -> Path:
        for name in names:
            if (directory / name).is_file():
                return directory / name
        raise DataError(f"{directory}: no {' or '.join(names)} there")

    members, offices = first(MEMBERS), first(OFFICES)
    return Files(members, offices, str(directory), str(members), str(offices))


def fetch(base_url: str, into: Path, timeout: float = defaults.CONGRESS_DATA_TIMEOUT,
          max_bytes: int = defaults.CONGRESS_DATA_MAX_BYTES) -> Files:
    """Download the members and offices files under ``base_url`` into the directory ``into``."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    urls = base + MEMBERS[0], base + OFFICES[0]
    with requests.Session() as http:
        http.headers["User-Agent"] = USER_AGENT
        day = download(http, urls[0], into / MEMBERS[0], timeout, max_bytes)
        download(http, urls[1], into / OFFICES[0], timeout, max_bytes)
    return Files(into / MEMBERS[0], into / OFFICES[0], base_url, *urls, day)


def download(http: requests.Session, url: str, path: Path, timeout: float, max_bytes: int) -> date | None:
    """Stream ``url`` into ``path``; return its Last-Modified date (also for ``sms.targets.state_refresh``)."""
    try:
        with http.get(url, timeout=(timeout, timeout), stream=True) as response:
            refuse_answer(url, response)
            size = 0
            with path.open("wb") as out:
                for block in response.iter_content(BLOCK):
                    size += len(block)
                    if size > max_bytes:
                        raise FetchError(f"{url}: larger than {max_bytes:,} bytes; not a data file?")
                    out.write(block)
            return _last_modified(response)
    except requests.Timeout:
        raise FetchError(f"{url}: no answer within {timeout:g} s (timeout)") from None
    except requests.ConnectionError as exc:
        if "timed out" in str(exc):  # a read timeout mid-body comes wrapped in a ConnectionError
            raise FetchError(f"{url}: no answer within {timeout:g} s (timeout)") from None
        raise FetchError(f"{url}: cannot connect ({type(exc).__name__})") from None
    except requests.RequestException as exc:
        raise FetchError(f"{url}: the download broke off ({type(exc).__name__})") from None


def refuse_answer(url: str, response: requests.Response) -> None:
    """Raise FetchError for a rate limit or any 4xx/5xx answer."""
    status = response.status_code
    if status == 429 or (status == 403 and response.headers.get("X-RateLimit-Remaining") == "0"):
        after = response.headers.get("Retry-After")
        wait = f"; the server asks to wait {after} s" if after else ""
        raise FetchError(f"{url}: rate limited (HTTP {status}{wait}); try again later")
    if status >= 400:
        raise FetchError(f"{url}: HTTP {status} {response.reason}".rstrip())


def _last_modified(response: requests.Response) -> date | None:
    try:
        return parsedate_to_datetime(response.headers["Last-Modified"]).date()
    except (KeyError, TypeError, ValueError):
        return None
