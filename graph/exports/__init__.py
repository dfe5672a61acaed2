"""Graph exports: the whole graph, or the subgraph behind canned query findings, as files other tools read.

One module per format, each exposing ``write(source, target, ...) -> ExportStats``:

* :mod:`graph.exports.jsonl` - the native records format (`shadowfleet load records` reads it back);
* :mod:`graph.exports.graphml` and :mod:`graph.exports.gexf` - for Gephi, yEd and networkx;
* :mod:`graph.exports.geojson` - positioned events as an RFC 7946 FeatureCollection;
* :mod:`graph.exports.neo4j_csv` - the CSV layout of ``neo4j-admin database import full``.

A :class:`~graph.exports.source.GraphSource` says what to export: the whole store
(:class:`~graph.exports.source.StoreSource`, read set-at-a-time through the Store interface) or a
subgraph (:class:`~graph.exports.source.SubgraphSource`, built by :mod:`graph.exports.subgraph`).
"""

from __future__ import annotations

from graph.exports.source import ExportError, ExportStats, GraphSource, StoreSource, SubgraphSource

#: Format name -> (module, default file name). neo4j-csv writes a folder.
FORMATS: dict[str, tuple[str, str]] = {
    "graphml": ("graph.exports.graphml", "shadowfleet.graphml"),
    "gexf": ("graph.exports.gexf", "shadowfleet.gexf"),
    "geojson": ("graph.exports.geojson", "shadowfleet.geojson"),
    "jsonl": ("graph.exports.jsonl", "shadowfleet.jsonl"),
    "neo4j-csv": ("graph.exports.neo4j_csv", "shadowfleet-neo4j-import"),
}

__all__ = ["FORMATS", "ExportError", "ExportStats", "GraphSource", "StoreSource", "SubgraphSource"]
