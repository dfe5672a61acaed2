"""Graph exports: the whole graph, or the subgraph behind canned query findings, as files other tools read.

One module per format, each exposing ``write(source, target, ...) -> ExportStats``:

* :mod:`shadowfleet.exports.jsonl` - the native records format (`shadowfleet load records` reads it back);
* :mod:`shadowfleet.exports.graphml` and :mod:`shadowfleet.exports.gexf` - for Gephi, yEd and networkx;
* :mod:`shadowfleet.exports.geojson` - positioned events as an RFC 7946 FeatureCollection;
* :mod:`shadowfleet.exports.neo4j_csv` - the CSV layout of ``neo4j-admin database import full``.

A :class:`~shadowfleet.exports.source.GraphSource` says what to export: the whole store
(:class:`~shadowfleet.exports.source.StoreSource`, read set-at-a-time through the Store interface) or a
subgraph (:class:`~shadowfleet.exports.source.SubgraphSource`, built by :mod:`shadowfleet.exports.subgraph`).
"""

from __future__ import annotations

from shadowfleet.exports.source import ExportError, ExportStats, GraphSource, StoreSource, SubgraphSource

#: Format name -> (module, default file name). neo4j-csv writes a folder.
FORMATS: dict[str, tuple[str, str]] = {
    "graphml": ("shadowfleet.exports.graphml", "shadowfleet.graphml"),
    "gexf": ("shadowfleet.exports.gexf", "shadowfleet.gexf"),
    "geojson": ("shadowfleet.exports.geojson", "shadowfleet.geojson"),
    "jsonl": ("shadowfleet.exports.jsonl", "shadowfleet.jsonl"),
    "neo4j-csv": ("shadowfleet.exports.neo4j_csv", "shadowfleet-neo4j-import"),
}

__all__ = ["FORMATS", "ExportError", "ExportStats", "GraphSource", "StoreSource", "SubgraphSource"]
