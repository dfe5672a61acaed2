"""Getting a source's current snapshot onto local disk and hashing it.

Local files are read where they are. URLs are fetched with urllib into the source's download folder
(a conditional GET with the previous ETag / Last-Modified, so an unchanged remote file is not
downloaded again); each file keeps its URL's base name, so provenance reads the same as for a local
load. The content hash covers every file's name and bytes, in the configured order.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowfleet.refresh.config import SourceConfig, is_url

CHUNK = 1 << 20
USER_AGENT = "shadowfleet-refresh (+https://github.com/shadowfleet)"


class FetchError(RuntimeError):
    """A source's files cannot be obtained: missing file, unreachable URL, HTTP error."""


@dataclass
class Fetched:
    """A snapshot on local disk."""

    paths: list[Path]
    content_hash: str
    retrieved_at: str | None = None  # None: loaders use each file's modification time
    validators: dict[str, dict[str, str]] = field(default_factory=dict)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(paths: list[Path]) -> str:
    """One hash for a set of files: each file's base name and SHA-256, in order."""
    outer = hashlib.sha256()
    for path in paths:
        outer.update(f"{path.name}\0{file_digest(path)}\n".encode())
    return "sha256:" + outer.hexdigest()


def _iso(stamp: datetime) -> str:
    return stamp.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _url_name(url: str, index: int) -> str:
    name = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name
    return name or f"download-{index}"


def fetch(
    source: SourceConfig, download_dir: Path, validators: dict[str, dict[str, str]] | None = None
) -> Fetched:
    """Make the source's files available locally; FetchError when one cannot be had."""
    validators = validators or {}
    paths: list[Path] = []
    new_validators: dict[str, dict[str, str]] = {}
    stamps: list[str] = []
    for index, location in enumerate(source.locations):
        if not is_url(location):
            path = Path(location)
            if not path.is_file():
                raise FetchError(f"{path}: no such file")
            if not os.access(path, os.R_OK):
                raise FetchError(f"{path}: not readable")
            paths.append(path)
            continue
        target = download_dir / _url_name(location, index)
        if target in paths:
            target = download_dir / f"{index}-{target.name}"
        got, stamp = _download(location, target, validators.get(location, {}), source.timeout)
        new_validators[location] = got
        stamps.append(stamp)
        paths.append(target)
    retrieved = max(stamps) if stamps else None
    return Fetched(paths, content_hash(paths), retrieved, new_validators)


def _download(url: str, target: Path, previous: dict[str, str], timeout: float) -> tuple[dict[str, str], str]:
    """Fetch ``url`` into ``target``; returns the new validators and when the data was retrieved."""
    headers = {"User-Agent": USER_AGENT}
    # Ask "has it changed?" only when the file we hold is the one those validators describe.
    if target.is_file() and previous.get("sha256") == file_digest(target):
        if previous.get("etag"):
            headers["If-None-Match"] = previous["etag"]
        if previous.get("last_modified"):
            headers["If-Modified-Since"] = previous["last_modified"]
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            info = response.headers
            partial = target.with_name(f".{target.name}.part")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with partial.open("wb") as out:
                    shutil.copyfileobj(response, out, CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(partial, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()
                raise
            pairs = (("etag", info.get("ETag")), ("last_modified", info.get("Last-Modified")))
            got = {k: v for k, v in pairs if v}
            got["retrieved_at"] = _retrieved(info.get("Last-Modified"), target)
            got["sha256"] = file_digest(target)
            return got, got["retrieved_at"]
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and target.is_file():
            return dict(previous), previous.get("retrieved_at") or _retrieved(
                previous.get("last_modified"), target
            )
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise FetchError(f"{url}: unreachable ({_reason(exc.reason)})") from None
    except (TimeoutError, OSError) as exc:
        raise FetchError(f"{url}: {_reason(exc)}") from None


def _retrieved(last_modified: str | None, target: Path) -> str:
    """When the data was retrieved: the server's Last-Modified when given, else the download time.

    The file's modification time is set to it, so a later load of the same file says the same.
    """
    stamp: datetime | None = None
    if last_modified:
        with contextlib.suppress(TypeError, ValueError):
            stamp = email.utils.parsedate_to_datetime(last_modified)
    if stamp is None:
        stamp = datetime.now(UTC)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    with contextlib.suppress(OSError):
        os.utime(target, (stamp.timestamp(), stamp.timestamp()))
    return _iso(stamp)


def _reason(reason: Any) -> str:
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return " ".join(str(text).split())[:200]
