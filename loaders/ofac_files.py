"""The files of OFAC's legacy SDN CSV set, read exactly as published, and their rows.

No header row, ``-0-`` for null, CRLF or LF line ends, an optional trailing 0x1A byte, UTF-8 or (in
older files) Latin-1/Windows-1252. A file is identified by its column count (sdn 12, add 6, alt 5,
sdn_comments 2), never by its name.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loaders.base import LoadError, require_file

NULL = "-0-"
SDN_COLUMNS = (
    "ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign",
    "Vess_type", "Tonnage", "GRT", "Vess_flag", "Vess_owner", "Remarks",
)  # fmt: skip
ADD_COLUMNS = ("ent_num", "add_num", "address", "city_state_postal", "country", "add_remarks")
ALT_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
COMMENT_COLUMNS = ("ent_num", "remarks_continued")
KINDS = {
    len(SDN_COLUMNS): "sdn",
    len(ADD_COLUMNS): "add",
    len(ALT_COLUMNS): "alt",
    len(COMMENT_COLUMNS): "comments",
}
# The name each kind of file has on OFAC's site: what record ids cite, whatever the local file is called.
RECORD_FILES = {"sdn": "sdn.csv", "add": "add.csv", "alt": "alt.csv", "comments": "sdn_comments.csv"}
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_PROGRAM_SPLIT = re.compile(r"\]\s*\[")
INTEGER = re.compile(r"^\d+$")
_NUMBER = re.compile(r"^\d[\d,]*(?:\.\d+)?$")


def value(raw: str | None) -> str | None:
    """A field's text without surrounding blanks; None for OFAC's null ``-0-`` and for empty fields."""
    if raw is None:
        return None
    text = " ".join(raw.split())
    return None if not text or text == NULL else text


def number(raw: str | None) -> float | None:
    """A tonnage such as ``99,144`` as a float; None when null or not a number."""
    text = value(raw)
    if text is None or not _NUMBER.match(text):
        return None
    return float(text.replace(",", ""))


def programs(raw: str | None) -> tuple[str, ...]:
    """The programs of an entry: ``SDGT] [IRGC`` (or ``[SDGT] [IRGC]``) → ("SDGT", "IRGC")."""
    text = value(raw)
    if text is None:
        return ()
    parts = _PROGRAM_SPLIT.split(text.strip().removeprefix("[").removesuffix("]"))
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


@dataclass(frozen=True)
class SdnEntry:
    """One row of sdn.csv."""

    ent_num: str
    name: str
    sdn_type: str | None
    programs: tuple[str, ...]
    title: str | None
    call_sign: str | None
    vessel_type: str | None
    tonnage: float | None
    grt: float | None
    vessel_flag: str | None
    vessel_owner: str | None
    remarks: str | None
    # With a continuation in sdn_comments.csv: sdn.csv's own part of the remarks, and the continuation.
    head: str | None = None
    continuation: str | None = None

    @classmethod
    def from_row(cls, row: Sequence[str], continuation: str | None = None) -> SdnEntry:
        """Build an entry from the 12 fields of a row; ValueError when it cannot be one.

        ``continuation`` is the rest of the remarks from sdn_comments.csv: OFAC cuts the field at a fixed
        length, often mid-word, so the two are joined exactly as written, with nothing added between.
        """
        if len(row) != len(SDN_COLUMNS):
            raise ValueError(f"expected {len(SDN_COLUMNS)} columns, found {len(row)}")
        ent_num = (value(row[0]) or "").strip()
        if not INTEGER.match(ent_num):
            raise ValueError(f"ent_num {row[0]!r} is not a number")
        name = value(row[1])
        if name is None:
            raise ValueError("no SDN_Name")
        return cls(
            ent_num,
            name,
            (value(row[2]) or "").lower() or None,
            programs(row[3]),
            value(row[4]),
            value(row[5]),
            value(row[6]),
            number(row[7]),
            number(row[8]),
            value(row[9]),
            value(row[10]),
            value((row[11] if value(row[11]) else "") + continuation) if continuation else value(row[11]),
            value(row[11]) if continuation else None,
            value(continuation) if continuation else None,
        )

    @property
    def label(self) -> str | None:
        """The node label for this entry's type; None for aircraft and anything else unmodelled."""
        if self.sdn_type is None:
            return "Company"
        return {"vessel": "Vessel", "individual": "Person"}.get(self.sdn_type)


@dataclass(frozen=True)
class SdnAddress:
    """One row of add.csv."""

    ent_num: str
    add_num: str
    address: str | None
    city: str | None
    country: str | None
    remarks: str | None

    @classmethod
    def from_row(cls, row: Sequence[str]) -> SdnAddress:
        """Build from the 6 fields of an add.csv row; ValueError when malformed."""
        if len(row) != len(ADD_COLUMNS):
            raise ValueError(f"expected {len(ADD_COLUMNS)} columns, found {len(row)}")
        ent_num, add_num = (value(row[0]) or ""), (value(row[1]) or "")
        if not (INTEGER.match(ent_num) and INTEGER.match(add_num)):
            raise ValueError(f"ent_num {row[0]!r} or add_num {row[1]!r} is not a number")
        return cls(ent_num, add_num, value(row[2]), value(row[3]), value(row[4]), value(row[5]))

    @property
    def full(self) -> str | None:
        """The address as one line, or None without a street line (a city alone is not an address)."""
        if self.address is None:
            return None
        return ", ".join(p for p in (self.address, self.city, self.country) if p)


@dataclass(frozen=True)
class SdnAlias:
    """One row of alt.csv."""

    ent_num: str
    alt_num: str
    alt_type: str | None
    name: str | None
    remarks: str | None

    @classmethod
    def from_row(cls, row: Sequence[str]) -> SdnAlias:
        """Build from the 5 fields of an alt.csv row; ValueError when malformed."""
        if len(row) != len(ALT_COLUMNS):
            raise ValueError(f"expected {len(ALT_COLUMNS)} columns, found {len(row)}")
        ent_num, alt_num = (value(row[0]) or ""), (value(row[1]) or "")
        if not (INTEGER.match(ent_num) and INTEGER.match(alt_num)):
            raise ValueError(f"ent_num {row[0]!r} or alt_num {row[1]!r} is not a number")
        alt_type = value(row[2])
        return cls(ent_num, alt_num, alt_type.lower() if alt_type else None, value(row[3]), value(row[4]))


# ---- reading the files ---------------------------------------------------------------------------------


@dataclass
class CsvFile:
    """A decoded OFAC CSV file: its kind ("sdn", "add", "alt" or "comments") and its rows."""

    path: Path
    kind: str
    rows: list[tuple[int, list[str]]]


def decode(data: bytes, path: Path) -> str:
    """Text of an OFAC file: UTF-8, else Windows-1252/Latin-1; trailing 0x1A and blank space removed."""
    if b"\x00" in data:
        raise LoadError(f"{path}: binary data (NUL bytes), not an OFAC CSV file")
    for encoding in ENCODINGS[:-1]:
        try:
            return data.decode(encoding).rstrip("\x1a \t\r\n")
        except UnicodeDecodeError:
            continue
    return data.decode(ENCODINGS[-1]).rstrip("\x1a \t\r\n")


def read_csv(path: Path) -> CsvFile:
    """Read and identify one OFAC CSV file; LoadError when it is not one of sdn/add/alt/comments."""
    require_file(path)
    text = decode(path.read_bytes(), path)
    if not text.strip():
        raise LoadError(f"{path}: empty file")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if row and any(f.strip() for f in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise LoadError(f"{path}: not CSV ({exc} near line {reader.line_num})") from None
    first = rows[0][1][0].strip()
    if not INTEGER.match(first):
        raise LoadError(
            f"{path}: first row starts with {first[:40]!r}, not an ent_num; "
            "OFAC's CSV files have no header row"
        )
    widths = Counter(len(row) for _, row in rows)
    width, count = widths.most_common(1)[0]
    if width not in KINDS or count * 2 < len(rows):
        expected = ", ".join(f"{n} ({RECORD_FILES[k]})" for n, k in KINDS.items())
        raise LoadError(
            f"{path}: not an OFAC sdn/add/alt/sdn_comments CSV file (rows have {dict(widths)} columns; "
            f"expected {expected})"
        )
    return CsvFile(path, KINDS[width], rows)


def input_files(paths: Sequence[Path]) -> list[Path]:
    """The files to read: each path given, a folder standing for the ``*.csv`` files in it."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
            if not found:
                raise LoadError(f"{path}: a folder without .csv files")
            out += found
        else:
            out.append(path)
    return out
