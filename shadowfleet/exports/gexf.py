"""GEXF 1.2 for Gephi (and networkx), streamed: all nodes, then all relationships.

Node ``label`` is the caption (name or key); attributes ``type`` (the node label), ``key``, every
property (typed; lists as JSON arrays) and ``provenance`` (a JSON array). Relationship ``label`` is
the type, also in attribute ``rel_type`` (Gephi reserves an edge column called Type for
directed/undirected); its key is ``rel_key`` (networkx reserves ``key``). Ids as in GraphML
(:func:`shadowfleet.exports.attributes.element_id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import quoteattr

from shadowfleet.exports.attributes import Column, clean, edge_columns, edge_values, element_id, node_columns
from shadowfleet.exports.attributes import node_values as node_attribute_values
from shadowfleet.exports.source import ExportStats, GraphSource, ProgressFn, text_output, tick

FORMAT = "gexf"
_TYPES = {"string": "string", "date": "string", "int": "long", "float": "double", "bool": "boolean"}
_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
    "  <meta><creator>shadowfleet</creator>"
    "<description>shadowfleet graph export (provenance as JSON in each element)</description></meta>\n"
    '  <graph defaultedgetype="directed" mode="static">\n'
)


def _declare(columns: Sequence[Column], domain: str, skip: str) -> str:
    lines = [f'    <attributes class="{domain}" mode="static">\n']
    lines += [
        f'      <attribute id="{i}" title={quoteattr(c.name)} type="{_TYPES.get(c.kind, "string")}"/>\n'
        for i, c in enumerate(columns)
        if c.name != skip
    ]
    lines.append("    </attributes>\n")
    return "".join(lines)


def _attvalues(values: dict[str, str], ids: dict[str, int]) -> str:
    cells = "".join(
        f'<attvalue for="{ids[name]}" value={quoteattr(clean(text))}/>'
        for name, text in values.items()
        if name in ids
    )
    return f"<attvalues>{cells}</attvalues>"


def write_graph(source: GraphSource, out: TextIO, progress: ProgressFn | None = None) -> tuple[int, int]:
    """Stream ``source`` as one GEXF document; returns (nodes, relationships)."""
    schema = source.schema
    ncols, ecols = node_columns(schema), edge_columns(schema)
    # ``label`` is the element's own attribute in GEXF, not an attvalue.
    nids = {c.name: i for i, c in enumerate(ncols) if c.name != "label"}
    eids = {c.name: i for i, c in enumerate(ecols) if c.name != "label"}
    nknown, eknown = {c.name for c in ncols}, {c.name for c in ecols}
    out.write(_HEADER)
    out.write(_declare(ncols, "node", "label"))
    out.write(_declare(ecols, "edge", "label"))
    out.write("    <nodes>\n")
    nodes = edges = 0
    for batch in source.node_batches():
        parts = []
        for node in batch:
            values = node_attribute_values(schema, node, nknown)
            parts.append(
                f"      <node id={quoteattr(element_id(node.label, node.key))} "
                f"label={quoteattr(clean(values['label']))}>{_attvalues(values, nids)}</node>\n"
            )
        out.write("".join(parts))
        nodes += len(batch)
        tick(progress, len(batch))
    out.write("    </nodes>\n    <edges>\n")
    for batch in source.edge_batches():
        parts = []
        for edge in batch:
            values = edge_values(schema, edge, eknown)
            parts.append(
                f'      <edge id="{edges}" source={quoteattr(element_id(edge.src_label, edge.src))} '
                f"target={quoteattr(element_id(edge.dst_label, edge.dst))} label={quoteattr(edge.type)}>"
                f"{_attvalues(values, eids)}</edge>\n"
            )
            edges += 1
        out.write("".join(parts))
        tick(progress, len(batch))
    out.write("    </edges>\n  </graph>\n</gexf>\n")
    return nodes, edges


def write(source: GraphSource, target: Path | None, progress: ProgressFn | None = None) -> ExportStats:
    """Write ``source`` as GEXF to ``target`` (None: stdout), replacing the file crash-safely."""
    with text_output(target) as out:
        nodes, edges = write_graph(source, out, progress)
    return ExportStats(FORMAT, str(target) if target else "stdout", nodes, edges)
