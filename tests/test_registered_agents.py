"""Registered agents' addresses (loaders/data/registered_agents.yaml) are marked on every loaded address.

The mark is its own record citing the reference table, never the source file, which does not say it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from graph import evidence
from graph.records import NodeRecord, Provenance
from graph.store import Store
from loaders.base import LoadOptions, get_loader
from loaders.registered_agents import agent_of, agents, marks

ICIJ = Path(__file__).parent / "data" / "loaders" / "icij"
PROV = Provenance("test", "t#1", "2024-01-01T00:00:00Z")


def test_every_spelling_of_an_agent_address_is_matched() -> None:
    for text in (
        "Trust Company Complex, Ajeltake Road, Ajeltake Island, Majuro, Marshall Islands MH96960",
        "TRUST COMPANY COMPLEX AJELTAKE ROAD, AJELTAKE ISLAND, MAJURO",
        "80 Broad Street, Monrovia, Liberia",
        "80, Broad Street Monrovia",
    ):
        assert agent_of(text) is not None, text
    for text in ("800 Broad Street, Newark", "Trust Company Building, Nassau", "Broad Street, Monrovia"):
        assert agent_of(text) is None, text
    assert {a.id for a in agents()} == {"marshall-islands", "liberia"}


def test_marks_cite_the_reference_table() -> None:
    records = [
        NodeRecord("Address", "addr:1", {"full": "80 Broad Street, Monrovia, Liberia"}, PROV),
        NodeRecord("Address", "addr:1", {"full": "80 Broad Street, Monrovia, Liberia"}, PROV),
        NodeRecord("Address", "addr:2", {"full": "12 Quiet Lane, Kowloon"}, PROV),
        NodeRecord("Company", "co:1", {"name": "80 Broad Street Monrovia Ltd"}, PROV),
    ]
    (mark,) = marks(records)
    assert (mark.label, mark.key, dict(mark.props)) == (
        "Address",
        "addr:1",
        {"registered_agent": "The LISCR Trust Company"},
    )
    assert mark.provenance is not None
    assert (mark.provenance.source, mark.provenance.record) == (
        "reference:registered-agents",
        "registered_agents.yaml#liberia",
    )


def test_a_loaded_address_carries_the_mark_and_its_source(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "icij"
    shutil.copytree(ICIJ, folder)
    addresses = folder / "nodes-addresses.csv"
    text = addresses.read_text(encoding="utf-8")
    addresses.write_text(
        text.replace('"Suite 4, Fictional Chambers, Apia, Samoa"', '"80 Broad Street, Monrovia, Liberia"'),
        encoding="utf-8",
    )
    output = get_loader("icij")([folder], LoadOptions(retrieved_at="2024-02-01T00:00:00Z"))
    store.write(output.records)
    (node,) = [n for batch in store.scan_nodes("Address") for n in batch]
    assert node.props["registered_agent"] == "The LISCR Trust Company"

    def cited(prop: str) -> set[str]:
        return {json.loads(p)["record"] for p in evidence.sources_for(node.claims, prop, node.props[prop])}

    assert cited("registered_agent") == {"registered_agents.yaml#liberia"}
    assert cited("full") == {"nodes-addresses.csv#2"}  # the row that states the address
