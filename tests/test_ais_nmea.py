"""Reading NMEA 0183 AIS: the real DMA Gatehouse stream and the pyais sample, with counts computed
independently in the test, and crafted lines for every awkward case (tag blocks, talkers, $PGHP,
fragments, impossible positions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

import pyais

from loaders.ais.decode import read_ais, sniff
from loaders.ais.nmea import NO_TIME

PYAIS = "ais-nmea-pyais/nmea_data_sample.txt"
GATEHOUSE = "ais-dma-nmea-2010/stream_example.txt"


def _checksum(body: str) -> str:
    """``body`` with its NMEA checksum (XOR of everything after the first character)."""
    return f"{body}*{reduce(lambda acc, ch: acc ^ ord(ch), body[1:], 0):02X}"


def _tag(fields: str) -> str:
    """An NMEA 4.10 tag block with a valid checksum."""
    return f"\\{fields}*{reduce(lambda acc, ch: acc ^ ord(ch), fields, 0):02X}\\"


def _bits(payload: str) -> str:
    return "".join(f"{(ord(c) - 48) - 8 * (ord(c) - 48 > 40):06b}" for c in payload)


def _signed(bits: str) -> int:
    value = int(bits, 2)
    return value - (1 << len(bits)) if bits[0] == "1" else value


def _lat_lon(payload: str) -> tuple[float, float]:
    """Latitude and longitude of a position report, straight from ITU-R M.1371's bit layout."""
    b = _bits(payload)
    kind = int(b[:6], 2)
    if kind in (1, 2, 3):
        return _signed(b[89:116]) / 600000, _signed(b[61:89]) / 600000
    if kind in (18, 19):
        return _signed(b[85:112]) / 600000, _signed(b[57:85]) / 600000
    return _signed(b[62:79]) / 600, _signed(b[44:62]) / 600  # type 27


def _usable(lat: float, lon: float) -> bool:
    return lat != 91 and lon != 181 and abs(lat) <= 90 and abs(lon) <= 180 and (lat, lon) != (0, 0)


def _gatehouse_expectations(path: Path) -> dict[str, object]:
    """Per message of the stream: the $PGHP time before it, its type and, for positions, usability."""
    lines = path.read_text().splitlines()
    stamp = re.compile(r"^\$PGHP,1,(\d+),(\d+),(\d+),(\d+),(\d+),(\d+),")
    messages = []
    for number, line in enumerate(lines, start=1):
        found = stamp.match(line)
        if not found:
            continue
        nxt = lines[number].strip().split(",")  # the sentence on the next line
        y, mo, d, h, mi, s = (int(x) for x in found.groups())
        when = int(datetime(y, mo, d, h, mi, s, tzinfo=UTC).timestamp())
        payload = nxt[5] + (lines[number + 1].split(",")[5] if nxt[1] == "2" else "")
        kind = int(_bits(payload[0]), 2)
        messages.append((number + 1, when, kind, payload))
    bad_mmsi = [
        line for line, _, _, payload in messages if not 0 < int(_bits(payload)[8:38], 2) <= 999_999_999
    ]
    positions = [
        (line, when)
        for line, when, kind, payload in messages
        if kind in (1, 2, 3, 18, 19, 27) and _usable(*_lat_lon(payload)) and line not in bad_mmsi
    ]
    statics = [m for m in messages if m[2] in (5, 19, 24)]
    trailing = [line for line in lines if re.search(r"\*[0-9A-F]{2},\d{10}$", line.strip())]
    statics = [m for m in statics if m[0] not in bad_mmsi]
    return {
        "messages": messages,
        "positions": positions,
        "statics": statics,
        "trailing": trailing,
        "bad_mmsi": bad_mmsi,
    }


def test_gatehouse_stream_every_position_takes_its_pghp_time(realdata: Path) -> None:
    path = realdata / GATEHOUSE
    expected = _gatehouse_expectations(path)
    messages, positions = expected["messages"], expected["positions"]
    assert len(messages) == 4051 and len(positions) == 2965  # type: ignore[arg-type]
    batch = read_ais([path])
    assert sniff(path) == "nmea"
    assert batch.counts["gatehouse_timestamps"] == len(messages)  # type: ignore[arg-type]
    assert batch.counts["messages_decoded"] == len(messages)  # type: ignore[arg-type]
    # two messages name MMSI 0: the only rejects
    assert sorted(r.line for r in batch.rejects) == expected["bad_mmsi"] and len(expected["bad_mmsi"]) == 2  # type: ignore[arg-type]
    assert {r.reason for r in batch.rejects} == {"no valid MMSI"}
    # every position is placed at the time of the $PGHP before it (AIS on line L, $PGHP on L-1)
    got = sorted(zip(batch.positions["line"].to_list(), batch.positions["t"].to_list(), strict=True))
    assert got == sorted(positions)  # type: ignore[arg-type]
    assert batch.statics.height == len(expected["statics"])  # type: ignore[arg-type]
    assert batch.statics["t"].null_count() == 0
    # all talkers are read, the 18 '!--VDM' sentences too, and own-ship VDO
    talkers = {line[:6] for line in path.read_text().splitlines() if line.startswith("!")}
    assert {"!--VDM", "!BSVDO", "!ABVDM", "!AIVDO"} <= talkers
    assert batch.counts["own_ship_sentences"] == sum(
        line.startswith("!") and line[3:6] == "VDO" for line in path.read_text().splitlines()
    )
    # two lines also carry a trailing epoch that disagrees with their $PGHP: the $PGHP wins, counted
    assert len(expected["trailing"]) == 2  # type: ignore[arg-type]
    assert batch.counts["time_sources_disagree"] == 2


def test_pyais_sample_has_no_time_so_every_report_is_a_counted_reject(realdata: Path) -> None:
    path = realdata / PYAIS
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    singles = [line for line in lines if line.split(",")[1] == "1" and line.split(",")[5]]
    fragments = [line for line in lines if line.split(",")[1] != "1" and line.split(",")[5]]
    decoded = [pyais.decode(line) for line in singles]
    positions = [m for m in decoded if m.msg_type in (1, 2, 3, 18, 19, 27) and m.lat != 91 and m.lon != 181]
    statics = [m for m in decoded if m.msg_type in (5, 24) or (m.msg_type == 19 and m.lat == 91)]
    assert len(lines) == 898 and len(fragments) == 20
    batch = read_ais([path])
    assert batch.counts["lines"] == len(lines)
    assert batch.counts["empty_payloads"] == sum(line.split(",")[5] == "" for line in lines) == 100
    assert batch.counts["messages_decoded"] == len(singles)
    assert batch.positions.height == 0 and batch.statics.height == 0
    assert batch.counts["positions_without_time"] == len(positions)
    no_time = [r for r in batch.rejects if r.reason == NO_TIME]
    assert len(no_time) == len(positions) + len(statics)
    incomplete = [r for r in batch.rejects if "incomplete multi-sentence" in r.reason]
    assert len(incomplete) == len(fragments) and {96, 110} <= {r.line for r in incomplete}
    assert len(batch.rejects) == len(no_time) + len(incomplete)


def _position(mmsi: int, lat: float, lon: float, talker: str = "AI", kind: str = "VDM") -> str:
    return pyais.encode_dict(
        {"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": 0.5}, talker_id=talker, sentence_type=kind
    )[0]


def _static(mmsi: int, seq: int) -> list[str]:
    data = {"type": 5, "mmsi": mmsi, "shipname": "SEA SPARROW", "callsign": "HMAB1", "imo": 9289518}
    return pyais.encode_dict({**data, "draught": 6.4}, sentence_type="VDM", seq_id=seq)


def _retalk(sentence: str, talker: str) -> str:
    """The same sentence under another talker (pyais refuses '--'), with its checksum recomputed."""
    return _checksum(f"!{talker}{sentence[3:].split('*')[0]}")


def test_crafted_lines_times_talkers_fragments_and_rejects(tmp_path: Path) -> None:
    mmsi = 445123456
    pos = _position(mmsi, 39.1, 127.5)
    static = _static(mmsi, 3)
    tagged = _static(mmsi, 4)
    lines = [
        _tag("s:station1,c:1725148800") + pos,  # 1: tag block receiver time
        f"2024-09-01T00:10:00Z {_retalk(pos, '--')}",  # 2: leading ISO time, '--' talker
        f"{_position(mmsi, 39.2, 127.5, 'BS')},1725150000",  # 3: trailing epoch, BS talker
        _checksum("$PGHP,1,2024,9,1,0,30,0,250,219,,2190047,1,4A"),  # 4: Gatehouse time 00:30:00.250
        _position(mmsi, 39.3, 127.5, "AB"),  # 5: takes the $PGHP time
        _position(mmsi, 39.4, 127.5, "AI", "VDO"),  # 6: no time left: the $PGHP was used up
        _checksum("$PGHP,1,2024,9,1,0,40,0,0,219,,2190047,1,4A"),  # 7: a $PGHP ...
        _checksum("$PGHP,1,2024,9,1,0,41,0,0,219,,2190047,1,4A"),  # 8: ... replaced before any AIS
        static[0],  # 9: multi-sentence message: first fragment takes the $PGHP time
        static[1],  # 10
        _tag("g:1-2-77,s:r1,c:1725152400") + tagged[0],  # 11: NMEA 4 group, time and station on
        tagged[1],  # 12: the first fragment only
        "!AIVDM,1,1,,A,,0*26",  # 13: empty payload
        pos[:-2] + "00",  # 14: bad checksum
        _checksum("!AIVDM,1,1,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0"),  # 15: too few fields
        "garbage !AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24",  # 16: unreadable prefix
        static[1],  # 17: second part without its first
        "\\s:station1,c:1725148800*00\\" + pos,  # 18: tag block with a wrong checksum
        "$GPGGA,000000,0000.000,N,00000.000,E,0,00,0.0,0.0,M,0.0,M,,*4A",  # 19: other NMEA: skipped
        f"1725153000 {_position(mmsi, 0.0, 0.0)}",  # 20: 0,0: impossible
        f"1725153000 {_position(mmsi, 95.0, 20.0)}",  # 21: latitude out of range
        f"1725153000 {_position(mmsi, 91.0, 181.0)}",  # 22: not available: no position, no reject
    ]
    path = tmp_path / "mixed.nmea"
    path.write_bytes(
        ("\r\n".join(lines[:4]) + "\n" + "\n".join(lines[4:12]) + "\r" + "\r".join(lines[12:])).encode()
    )
    batch = read_ais([path])
    by_line = dict(zip(batch.positions["line"].to_list(), batch.positions["t"].to_list(), strict=True))
    assert by_line == {1: 1725148800, 2: 1725149400, 3: 1725150000, 5: 1725150600}
    assert batch.counts["gatehouse_timestamps"] == 3 and batch.counts["gatehouse_unused"] == 1
    assert batch.counts["multi_sentence_messages"] == 2 and batch.counts["own_ship_sentences"] == 1
    assert batch.counts["sentences_other"] == 1 and batch.counts["empty_payloads"] == 1
    assert batch.counts["positions_unavailable"] == 1 and batch.counts["positions_impossible"] == 2
    statics = dict(zip(batch.statics["line"].to_list(), batch.statics["t"].to_list(), strict=True))
    assert statics == {9: 1725151260, 11: 1725152400}  # 00:41:00 from line 8's $PGHP
    row = batch.statics.row(0, named=True)
    assert (row["name"], row["call_sign"], row["imo"]) == ("SEA SPARROW", "HMAB1", "9289518")
    reasons = {r.line: r.reason for r in batch.rejects}
    assert sorted(reasons) == [6, 14, 15, 16, 17, 18, 20, 21]
    assert reasons[6] == NO_TIME
    assert "checksum" in reasons[14] and "7 fields" in reasons[15]
    assert "before the sentence" in reasons[16] and "without its predecessors" in reasons[17]
    assert "tag block checksum" in reasons[18]
    assert reasons[20] == "position 0,0 (no fix)" and reasons[21].startswith("position out of range (lat 95")


def test_fragments_of_two_stations_bad_pghp_dates_and_bad_mmsis(tmp_path: Path) -> None:
    one, two = _static(445123456, 5), _static(445123457, 5)  # the same sequence id and channel
    lines = [
        _tag("s:north,c:1725148800") + one[0],  # 1
        _tag("s:south,c:1725148860") + two[0],  # 2: interleaved, another station
        _tag("s:north,c:1725148800") + one[1],  # 3
        _tag("s:south,c:1725148860") + two[1],  # 4
        _checksum("$PGHP,1,2024,13,1,0,0,0,0,219,,2190047,1,4A"),  # 5: no 13th month: a reject
        _position(445123456, 39.1, 127.5),  # 6: so this gets no time
        f"1725148900 {_position(0, 39.1, 127.5)}",  # 7: MMSI 0
        _tag("c:1725148900123") + _position(445123456, 39.1, 127.6),  # 8: milliseconds
    ]
    path = tmp_path / "stations.nmea"
    path.write_text("\n".join(lines) + "\n")
    batch = read_ais([path])
    statics = sorted(zip(batch.statics["mmsi"].to_list(), batch.statics["t"].to_list(), strict=True))
    assert statics == [(445123456, 1725148800), (445123457, 1725148860)]
    reasons = {r.line: r.reason for r in batch.rejects}
    assert sorted(reasons) == [5, 6, 7]
    assert reasons[5].startswith("malformed sentence") and reasons[6] == NO_TIME
    assert reasons[7] == "no valid MMSI"
    assert batch.positions["t"].to_list() == [1725148900]


def test_a_fragment_out_of_order_leaves_no_message_unreported(tmp_path: Path) -> None:
    first = _checksum("!AIVDM,3,1,7,A,53u?etP00000000000000000000000000000000000000000000000000,0")
    third = _checksum("!AIVDM,3,3,7,A,0000000000,2")
    path = tmp_path / "broken.nmea"
    path.write_text(f"1725148800 {first}\n1725148800 {third}\n")
    batch = read_ais([path])
    reasons = sorted((r.line, r.reason) for r in batch.rejects)
    assert reasons == [
        (1, "incomplete multi-sentence message (1 of 3 parts)"),
        (2, "fragment 3 of 3 without its predecessors"),
    ]
