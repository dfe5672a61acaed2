"""Invalid IMOs broadcast in AIS (static messages and CSV rows): kept as claimed identifiers with an
``invalid_imo`` Anomaly, never a hull key, never dropped; "not available" (0) is no IMO."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from test_ais_nmea import GATEHOUSE, _bits

from graph.store import Store
from loaders.ais.params import resolve
from shadowfleet.commands.detect import detect_into


def _check_ok(number: str) -> bool:
    """IMO ship number rule, written out here: seven digits, sum of the first six × 7..2, mod 10."""
    if len(number) != 7 or not number.isdigit() or number == "0000000":
        return False
    return sum(int(d) * w for d, w in zip(number[:6], range(7, 1, -1), strict=True)) % 10 == int(number[6])


def _type5_imos(path: Path) -> dict[int, set[str]]:
    """MMSI → IMO numbers of every type 5 message in the stream, from M.1371's bit layout."""
    lines = path.read_text().splitlines()
    out: dict[int, set[str]] = {}
    for i, line in enumerate(lines):
        fields = line.split(",")
        if not line.startswith("!") or fields[1] != "2" or fields[2] != "1":
            continue
        bits = _bits(fields[5] + lines[i + 1].split(",")[5])
        if int(bits[:6], 2) != 5:
            continue
        imo = int(bits[40:70], 2)
        if imo:
            out.setdefault(int(bits[8:38], 2), set()).add(str(imo))
    return out


def _anomalies(store: Store) -> dict[str, dict[str, object]]:
    return {n.key: n.props for n in (node for batch in store.scan_nodes("Anomaly") for node in batch)}


def test_real_stream_invalid_imos_are_claimed_with_anomalies(store: Store, realdata: Path) -> None:
    path = realdata / GATEHOUSE
    claimed = {(m, imo) for m, imos in _type5_imos(path).items() for imo in imos if not _check_ok(imo)}
    assert len(claimed) == 5  # two of nine digits, three of seven with a wrong check digit
    valid = {m for m, imos in _type5_imos(path).items() if any(_check_ok(i) for i in imos)}
    _, detection, _, _ = detect_into(store, [path], resolve())
    assert detection.counts["invalid_imos_claimed"] == len(claimed)
    found = set()
    for key, props in _anomalies(store).items():
        if props["kind"] != "invalid_imo":
            continue
        assert props["detector"] == "identifiers.imo_check_digit"
        assert json.loads(str(props["parameters"]))["weights"] == [7, 6, 5, 4, 3, 2]
        vessel_key, value = key.removeprefix("anomaly:invalid_imo:Vessel:").rsplit(":", 1)
        node = store.get_node("Vessel", vessel_key)
        assert node is not None and value in node.props["claimed_imos"]
        mmsi = int(vessel_key.removeprefix("mmsi:")) if vessel_key.startswith("mmsi:") else None
        found.add((mmsi, value))
    # a vessel that never broadcast a valid IMO stays keyed by its MMSI, never by the invalid number
    assert found == {(m if m not in valid else None, imo) for m, imo in claimed}
    keys = {n.key for batch in store.scan_nodes("Vessel") for n in batch}
    assert not any(k == f"imo:{imo}" for _, imo in claimed for k in keys)


def test_csv_invalid_imos_claimed_zero_is_not_available(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "AIS_2024_09_01.csv"
    header = "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Draft\n"
    rows = {
        "445000201": "IMO0000000",  # not available
        "445000202": "IMO9289519",  # wrong check digit (9289518 is valid)
        "445000203": "IMO925190100",  # nine digits
        "445000204": "1234567890",  # ten digits
        "445000205": "IMO9289518",  # valid: the key
    }
    lines = [
        f"{m},2024-09-01T00:00:00,39.1,127.5,0.1,90,511,SHIP {m[-1]},{imo},HM{m[-3:]},80,6.0"
        for m, imo in rows.items()
    ]
    path.write_text(header + "\n".join(lines) + "\n")
    batch, detection, _, _ = detect_into(store, [path], resolve())
    assert batch.counts["imo_not_available"] == 1 and not batch.rejects
    assert detection.counts["invalid_imos_claimed"] == 3
    keys = {n.key: n for b in store.scan_nodes("Vessel") for n in b}
    assert set(keys) == {
        "mmsi:445000201",
        "mmsi:445000202",
        "mmsi:445000203",
        "mmsi:445000204",
        "imo:9289518",
    }
    assert (
        "claimed_imos" not in keys["mmsi:445000201"].props and "claimed_imos" not in keys["imo:9289518"].props
    )
    for mmsi, number in (("445000202", "9289519"), ("445000203", "925190100"), ("445000204", "1234567890")):
        assert keys[f"mmsi:{mmsi}"].props["claimed_imos"] in ([number], (number,))
    invalid = {k: p for k, p in _anomalies(store).items() if p["kind"] == "invalid_imo"}
    assert set(invalid) == {
        "anomaly:invalid_imo:Vessel:mmsi:445000202:9289519",
        "anomaly:invalid_imo:Vessel:mmsi:445000203:925190100",
        "anomaly:invalid_imo:Vessel:mmsi:445000204:1234567890",
    }
    assert "expected 8" in str(invalid["anomaly:invalid_imo:Vessel:mmsi:445000202:9289519"]["detail"])
    assert all(p["observed"] == "2024-09-01" for p in invalid.values())
    # loading twice changes nothing
    _, _, stats, _ = detect_into(store, [path], resolve())
    assert stats is not None and stats.nodes_created == 0 and stats.edges_created == 0


def test_real_dma_csv_vessels_keyed_by_their_valid_imos(store: Store, realdata: Path) -> None:
    path = realdata / "ais-dma-csv-2024/aisdk-2024-09-09-mock.csv"
    with path.open(newline="") as handle:
        rows = [{k.strip(): v.strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    stated = {r["MMSI"]: r["IMO"] for r in rows if r["IMO"] != "Unknown"}
    assert len(stated) == 11 and all(_check_ok(imo) for imo in stated.values())
    detect_into(store, [path], resolve())
    keys = {n.key for b in store.scan_nodes("Vessel") for n in b}
    assert {k for k in keys if k.startswith("imo:")} == {f"imo:{imo}" for imo in stated.values()}
    assert not [p for p in _anomalies(store).values() if p["kind"] == "invalid_imo"]
