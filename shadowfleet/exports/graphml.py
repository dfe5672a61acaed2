"""GraphML for Gephi, yEd and networkx, streamed node by node (no graph is built in memory).

Every node carries ``label`` (its caption: name or key), ``type`` (its label, e.g. Vessel), ``key``,
every property as a typed attribute (lists as JSON arrays) and ``provenance`` (a JSON array of
``{source, record, retrieved_at}``). Relationships carry ``label`` and ``rel_type`` (the type), ``rel_key``,
their properties and provenance. Gephi takes ``label`` as the node label; yEd shows the caption through
its own node and edge label graphics, which are written as well. Node ids are ``Label:key`` made safe
for XML (see :func:`shadowfleet.exports.attributes.element_id`); edge ids count from e0.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from shadowfleet.exports.attributes import Column, clean, edge_columns, edge_values, element_id, node_columns
from shadowfleet.exports.attributes import node_values as node_attribute_values
from shadowfleet.exports.source import ExportStats, GraphSource, ProgressFn, caption, text_output, tick

FORMAT = "graphml"
_TYPES = {"string": "string", "date": "string", "int": "long", "float": "double", "bool": "boolean"}
_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:y="http://www.yworks.com/xml/graphml" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://www.yworks.com/xml/schema/graphml/1.1/ygraphml.xsd">\n'
)


def _keys(columns: Sequence[Column], prefix: str, domain: str) -> str:
    lines = [
        f'  <key id="{prefix}{i}" for="{domain}" attr.name={quoteattr(c.name)} '
        f'attr.type="{_TYPES.get(c.kind, "string")}"/>\n'
        for i, c in enumerate(columns)
    ]
    graphics = "nodegraphics" if domain == "node" else "edgegraphics"
    lines.append(f'  <key id="{prefix}g" for="{domain}" yfiles.type="{graphics}"/>\n')
    return "".join(lines)


def _data(values: dict[str, str], ids: dict[str, str]) -> str:
    return "".join(f'<data key="{ids[name]}">{escape(clean(text))}</data>' for name, text in values.items())


def write_graph(
    source: GraphSource, out: TextIO, progress: ProgressFn | None = None, yed_labels: bool = True
) -> tuple[int, int]:
    """Stream ``source`` as one GraphML document; returns (nodes, relationships)."""
    schema = source.schema
    ncols, ecols = node_columns(schema), edge_columns(schema)
    nids = {c.name: f"kn{i}" for i, c in enumerate(ncols)}
    eids = {c.name: f"ke{i}" for i, c in enumerate(ecols)}
    nknown, eknown = set(nids), set(eids)
    out.write(_HEADER)
    out.write(_keys(ncols, "kn", "node"))
    out.write(_keys(ecols, "ke", "edge"))
    out.write('  <graph id="shadowfleet" edgedefault="directed">\n')
    nodes = edges = 0
    for batch in source.node_batches():
        parts = []
        for node in batch:
            graphics = (
                f'<data key="kng"><y:ShapeNode><y:NodeLabel>{escape(clean(caption(schema, node)))}'
                "</y:NodeLabel></y:ShapeNode></data>"
                if yed_labels
                else ""
            )
            values = node_attribute_values(schema, node, nknown)
            parts.append(
                f"    <node id={quoteattr(element_id(node.label, node.key))}>"
                f"{graphics}{_data(values, nids)}</node>\n"
            )
        out.write("".join(parts))
        nodes += len(batch)
        tick(progress, len(batch))
    for batch in source.edge_batches():
        parts = []
        for edge in batch:
            graphics = (
                f'<data key="keg"><y:PolyLineEdge><y:Arrows source="none" target="standard"/>'
                f"<y:EdgeLabel>{edge.type}</y:EdgeLabel></y:PolyLineEdge></data>"
                if yed_labels
                else ""
            )
            values = edge_values(schema, edge, eknown)
            src, dst = element_id(edge.src_label, edge.src), element_id(edge.dst_label, edge.dst)
            parts.append(
                f'    <edge id="e{edges}" source={quoteattr(src)} target={quoteattr(dst)}>'
                f"{graphics}{_data(values, eids)}</edge>\n"
            )
            edges += 1
        out.write("".join(parts))
        tick(progress, len(batch))
    out.write("  </graph>\n</graphml>\n")
    return nodes, edges


def write(
    source: GraphSource, target: Path | None, progress: ProgressFn | None = None, yed_labels: bool = True
) -> ExportStats:
    """Write ``source`` as GraphML to ``target`` (None: stdout), replacing the file crash-safely."""
    with text_output(target) as out:
        nodes, edges = write_graph(source, out, progress, yed_labels)
    return ExportStats(FORMAT, str(target) if target else "stdout", nodes, edges)
