"""Raw NMEA 0183 AIS: sentences parsed and decoded with pyais, each report given its receiver time.

A line is ``[\\tag block\\][leading time ]<sentence>[,trailing time]``. pyais parses the sentence
(``NMEASentenceFactory``: ``!xxVDM``/``!xxVDO`` of any talker, including ``!--VDM``, and Gatehouse
``$PGHP``), the NMEA 4.10 tag block (``TagBlock``: ``c:`` receiver time, ``s:`` station, ``g:`` group)
and the checksums; fragments are assembled with ``NMEAMessage.assemble_from_iterable`` and decoded
by pyais. We keep the line bookkeeping pyais' stream readers drop: every line that cannot be used is
a reject naming the file, line and reason.

Receiver time, first found wins:

1. the tag block's ``c:`` (Unix seconds or milliseconds);
2. the Gatehouse ``$PGHP,1,<year>,<month>,<day>,<hour>,<minute>,<second>,<ms>,<MID>,<region>,<station
   MMSI>,<online>,<hh>*hh`` sentence just before the AIS sentence (the layout DMA's AisLib
   ``GatehouseFactory`` and pyais' ``GatehouseSentence`` read; the time is UTC). As in both, a
   ``$PGHP`` stamps the next AIS sentence only: it is used up by it, and a second ``$PGHP`` before
   any AIS sentence replaces the first (counted as ``gatehouse_unused``);
3. a bare Unix or ISO-8601 time before the sentence or after its checksum (a logger's convention).

A multi-sentence message takes the time of its first fragment, else of a later one. A position or
static report with no receiver time is a reject ("no receiver time"): it cannot be placed on a
track, and we do not guess one from its neighbours.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from pyais.exceptions import InvalidNMEAMessageException, UnknownMessageException
from pyais.messages import AISSentence, GatehouseSentence, NMEAMessage, NMEASentenceFactory

from loaders.ais.frames import (
    POSITION_SCHEMA,
    POSITION_TYPES,
    STATIC_SCHEMA,
    STATIC_TYPES,
    AisBatch,
    empty_positions,
    empty_statics,
    position_problem,
)
from loaders.base import Reject

SENTENCE = re.compile(r"[!$][A-Z-]{2}VD[MO],")
_TAG_BLOCK = re.compile(r"^\\([^\\]*)\\")
_START = re.compile(r"[!$]")
NO_TIME = "no receiver time (no tag block c:, $PGHP or timestamp on the line)"


def parse_time(text: str) -> int | None:
    """Unix seconds from an epoch number (s or ms) or an ISO-8601 timestamp; None if neither."""
    text = text.strip().strip(",;")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("/", "-"))
        except ValueError:
            return None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return int(stamp.timestamp())
    if value > 1e11:
        value /= 1000.0
    return int(value) if 0 < value < 4e9 else None


def split_line(line: str) -> tuple[str | None, str | None, int | None, str | None]:
    """(tag block, sentence, bare time, error) of one line; sentence None for text with no sentence."""
    tag = _TAG_BLOCK.match(line)
    block = None
    if tag:
        block = tag.group(1)
        line = line[tag.end() :]
    start = _START.search(line)
    if start is None:
        return block, None, None, None
    when: int | None = None
    prefix = line[: start.start()].strip()
    if prefix:
        when = parse_time(prefix)
        if when is None:
            return block, None, None, f"unrecognised text before the sentence: {prefix[:40]!r}"
    sentence = line[start.start() :]
    star = sentence.find("*")
    if star >= 0 and len(sentence) > star + 3:
        trailer = sentence[star + 3 :]
        sentence = sentence[: star + 3]
        if trailer.strip(" ,;\t"):
            stamp = parse_time(trailer)
            if stamp is None:
                return block, None, None, f"unrecognised text after the checksum: {trailer[:40]!r}"
            when = stamp
    return block, sentence, when, None


def _gatehouse_time(sentence: GatehouseSentence) -> int:
    # pyais gives a naive datetime; Gatehouse stamps are UTC (AisLib reads them with DateTimeZone.UTC)
    return int(sentence.timestamp.replace(tzinfo=UTC).timestamp())


def _float(value: Any, missing: float) -> float:
    if value is None:
        return float("nan")
    number = float(value)
    return float("nan") if number == missing else number


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).replace("@", " ").split())
    return text or None


class _Reader:
    """State of one file's pass: pending fragments, the unused $PGHP stamp, the rows so far."""

    def __init__(self, path: Path, src: int) -> None:
        self.batch = AisBatch(empty_positions(), empty_statics(), files=[path])
        self.name = str(path)
        self.src = src
        self.pos_rows: list[tuple[Any, ...]] = []
        self.static_rows: list[tuple[Any, ...]] = []
        # (station, talker, sequence id, channel) -> (first line, time, fragments so far)
        self.pending: dict[tuple[str | None, str, Any, str], tuple[int, int | None, list[AISSentence]]] = {}
        self.stamp: int | None = None  # time of the last $PGHP, until an AIS sentence uses it

    def reject(self, number: int, reason: str, text: str) -> None:
        self.batch.rejects.append(Reject(self.name, number, reason, text[:500]))

    def line(self, number: int, line: str) -> None:
        count = self.batch.count
        count("lines")
        block, text, bare, error = split_line(line)
        if text is None and not error:
            count("sentences_other")  # no NMEA sentence on the line
            return
        if text is not None and SENTENCE.match(text) and text.count(",") != 6:
            error = f"malformed VDM/VDO sentence (expected 7 fields, got {text.count(',') + 1})"
        sentence = None
        if not error:
            raw = (f"\\{block}\\" if block is not None else "") + str(text)
            try:
                sentence = NMEASentenceFactory.produce(raw.encode("ascii"))
            except UnknownMessageException:
                count("sentences_other")  # other NMEA sentences ($GPxxx, other proprietary $P...)
                return
            except (InvalidNMEAMessageException, UnicodeEncodeError, ValueError) as exc:
                error = f"malformed sentence: {_why(exc)}"
        if sentence is not None and not sentence.is_valid:
            error = "checksum mismatch or missing"
        if error or sentence is None:
            self.stamp = None  # a $PGHP stamps the next sentence, even one we cannot use
            self.reject(number, error or "unreadable line", line)
            return
        if isinstance(sentence, GatehouseSentence):
            if self.stamp is not None:
                count("gatehouse_unused")
            self.stamp = _gatehouse_time(sentence)
            count("gatehouse_timestamps")
            return
        self.ais(number, line, sentence, bare)  # type: ignore[arg-type]

    def ais(self, number: int, line: str, sentence: AISSentence, bare: int | None) -> None:
        count = self.batch.count
        stamp, self.stamp = self.stamp, None
        station, when = None, None
        block = sentence.tag_block
        if block is not None:
            block.init()
            if not block.is_valid:
                self.reject(number, "tag block checksum mismatch or missing", line)
                return
            station = block.source_station
            if block.receiver_timestamp:
                when = parse_time(block.receiver_timestamp)
                if when is None:
                    self.reject(number, f"unreadable tag block time {block.receiver_timestamp!r}", line)
                    return
        given = [t for t in (when, stamp, bare) if t is not None]
        if len(given) > 1 and max(given) - min(given) > 1:
            count("time_sources_disagree")
        when = given[0] if given else None
        if sentence.type == "VDO":
            count("own_ship_sentences")
        if not sentence.payload:
            count("empty_payloads")
            return
        total, part = sentence.frag_cnt, sentence.frag_num
        if total == 1:
            self.emit(number, when, sentence)
            return
        key = (station, sentence.talker_id, sentence.seq_id, sentence.channel)
        if part == 1:
            if key in self.pending:
                first, _, parts = self.pending.pop(key)
                self.reject(
                    first, f"incomplete multi-sentence message ({len(parts)} of {total} parts)", _raw(parts)
                )
            self.pending[key] = (number, when, [sentence])
            return
        key = self._continued(key)
        if key not in self.pending or len(self.pending[key][2]) != part - 1:
            self.reject(number, f"fragment {part} of {total} without its predecessors", line)
            if key in self.pending:  # the message this fragment broke off is incomplete: a reject too
                first, _, parts = self.pending.pop(key)
                self.reject(
                    first, f"incomplete multi-sentence message ({len(parts)} of {total} parts)", _raw(parts)
                )
            return
        first, first_when, parts = self.pending[key]
        parts.append(sentence)
        if part == total:
            del self.pending[key]
            count("multi_sentence_messages")
            self.emit(
                first,
                first_when if first_when is not None else when,
                NMEAMessage.assemble_from_iterable(parts),
            )

    def _continued(self, key: tuple[str | None, str, Any, str]) -> tuple[str | None, str, Any, str]:
        """A later fragment without a tag block station continues the one pending message with the same
        talker, sequence id and channel (some feeds tag only the first fragment)."""
        if key in self.pending or key[0] is not None:
            return key
        same = [k for k in self.pending if k[1:] == key[1:]]
        return same[0] if len(same) == 1 else key

    def emit(self, number: int, when: int | None, message: AISSentence) -> None:
        count = self.batch.count
        try:
            data = message.decode().asdict()
        except Exception as exc:  # pyais raises several exception types for bad payloads
            self.reject(
                number, f"undecodable AIS payload: {_why(exc)}", message.raw.decode("ascii", "replace")
            )
            return
        kind = int(data["msg_type"])
        count("messages_decoded")
        if kind not in POSITION_TYPES and kind not in STATIC_TYPES:
            count("messages_other_types")
            return
        mmsi = int(data.get("mmsi") or 0)
        raw = message.raw.decode("ascii", "replace")
        if not 0 < mmsi <= 999_999_999:  # 30 bits hold up to 1,073,741,823; an MMSI has nine digits
            self.reject(number, "no valid MMSI", raw)
            return
        problem = (
            position_problem(data.get("lat"), data.get("lon")) if kind in POSITION_TYPES else "unavailable"
        )
        if kind in POSITION_TYPES and problem == "unavailable":
            count("positions_unavailable")  # no position: nothing to place, nothing to reject
            if kind not in STATIC_TYPES:
                return
        if problem not in (None, "unavailable"):
            count("positions_impossible")
            self.reject(number, problem, raw)
            return
        if when is None:
            count("positions_without_time" if problem is None else "statics_without_time")
            self.reject(number, NO_TIME, raw)
            return
        if problem is None:
            self.pos_rows.append(
                (mmsi, when, data["lat"], data["lon"], _float(data.get("speed"), 102.3),
                 _float(data.get("course"), 360.0), None, self.src, number)
            )  # fmt: skip
        if kind in STATIC_TYPES:
            draught = data.get("draught") if kind == 5 else None
            imo = data.get("imo") if kind == 5 else None
            if kind == 5 and not imo:
                count("imo_not_available")  # 0 is M.1371's "not available"
            ship_type = data.get("ship_type")
            self.static_rows.append(
                (
                    mmsi,
                    when,
                    str(imo) if imo else None,  # 0 is M.1371's "not available"
                    _text(data.get("shipname")),
                    _text(data.get("callsign")),
                    str(int(ship_type)) if ship_type is not None else None,
                    float(draught) if draught else None,
                    self.src,
                    number,
                )
            )

    def finish(self) -> AisBatch:
        for first, _, parts in self.pending.values():
            self.reject(
                first, f"incomplete multi-sentence message ({len(parts)} part(s) received)", _raw(parts)
            )
        if self.stamp is not None:
            self.batch.count("gatehouse_unused")
        self.batch.positions = pl.DataFrame(self.pos_rows, schema=POSITION_SCHEMA, orient="row")
        self.batch.statics = pl.DataFrame(self.static_rows, schema=STATIC_SCHEMA, orient="row")
        return self.batch


def _raw(parts: list[AISSentence]) -> str:
    return parts[0].raw.decode("ascii", "replace")


def _why(exc: BaseException) -> str:
    """pyais wraps the cause of a malformed sentence; name the cause, not the raw bytes again."""
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}"[:200]


def read_nmea(path: Path, src: int) -> AisBatch:
    """Decode a file of NMEA 0183 AIS sentences (single and multi-sentence) with pyais."""
    reader = _Reader(path, src)
    text = path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line:
            reader.line(number, line)
    return reader.finish()
