"""Read helpers over the embedded store's MultiDiGraph, shared by the query modules.

Nodes are ``(label, key)`` tuples with ``props`` and ``provenance``; edges are keyed ``(type, key)``.
The helpers mirror the few Cypher idioms the canned queries use (``coalesce``, ``round``, degree).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Container, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import networkx as nx

from graph.evidence import value_text
from graph.store import Store

Node = tuple[str, str]
Edge = tuple[Node, str, dict[str, Any]]  # (other end, relationship type, edge data)

_LABEL_INDEX: weakref.WeakKeyDictionary[nx.MultiDiGraph, tuple[int, dict[str, list[Node]]]] = (
    weakref.WeakKeyDictionary()
)


class G:
    """A thin read view of the embedded graph."""

    def __init__(self, store: Store, graph: nx.MultiDiGraph | None = None) -> None:
        if graph is None:
            graph = store.graph  # type: ignore[attr-defined]
        self.graph = graph
        self._node = graph._node
        self._succ = graph._succ
        self._pred = graph._pred

    @classmethod
    def around(cls, store: Store, label: str, keys: list[str], through: Container[str]) -> G:
        """A view of just the neighbourhood of some nodes (see MemoryStore.local_graph), so a dossier
        reads a few rows of a persisted graph instead of loading all of it."""
        local = getattr(store, "local_graph", None)
        if local is None:
            return cls(store)
        return cls(store, local(label, keys, through))

    # ---- nodes --------------------------------------------------------------------------------

    def nodes(self, label: str) -> list[Node]:
        """Every node of ``label``, in key order (cached per graph until nodes are added)."""
        cached = _LABEL_INDEX.get(self.graph)
        if cached is None or cached[0] != len(self._node):
            index: dict[str, list[Node]] = defaultdict(list)
            for node in self._node:
                index[node[0]].append(node)
            for nodes in index.values():
                nodes.sort()
            cached = (len(self._node), dict(index))
            _LABEL_INDEX[self.graph] = cached
        return cached[1].get(label, [])

    def has(self, node: Node) -> bool:
        """True when the node exists."""
        return node in self._node

    def props(self, node: Node) -> dict[str, Any]:
        """The node's properties."""
        return self._node[node]["props"]

    def prov(self, node: Node) -> list[str]:
        """The node's provenance entries."""
        return self._node[node]["provenance"]

    def claims(self, node: Node) -> list[str]:
        """Which record states which value of the node's properties (graph/evidence.py)."""
        return self._node[node].get("claims") or []

    def get(self, node: Node, name: str) -> Any:
        """One property of the node, or None."""
        return self._node[node]["props"].get(name)

    # ---- relationships ------------------------------------------------------------------------

    def out(self, node: Node, types: Container[str] | None = None) -> Iterator[Edge]:
        """Outgoing relationships (of the given types): (target, type, data)."""
        for other, keyed in self._succ.get(node, {}).items():
            for (rel_type, _), data in keyed.items():
                if types is None or rel_type in types:
                    yield other, rel_type, data

    def inc(self, node: Node, types: Container[str] | None = None) -> Iterator[Edge]:
        """Incoming relationships (of the given types): (source, type, data)."""
        for other, keyed in self._pred.get(node, {}).items():
            for (rel_type, _), data in keyed.items():
                if types is None or rel_type in types:
                    yield other, rel_type, data

    def between(self, src: Node, dst: Node, types: Container[str]) -> Iterator[dict[str, Any]]:
        """Data of the relationships of the given types from ``src`` to ``dst`` (a direct lookup)."""
        for (rel_type, _), data in self._succ.get(src, {}).get(dst, {}).items():
            if rel_type in types:
                yield data

    def both(self, node: Node, types: Container[str] | None = None) -> Iterator[tuple[Node, str, dict, bool]]:
        """Relationships either way: (other end, type, data, outgoing?)."""
        for other, rel_type, data in self.out(node, types):
            yield other, rel_type, data, True
        for other, rel_type, data in self.inc(node, types):
            yield other, rel_type, data, False

    def all_edges(self, node: Node) -> Iterator[tuple[Node, str, str, dict, bool]]:
        """Every relationship either way: (other end, type, relationship key, data, outgoing?)."""
        for outgoing, adjacency in ((True, self._succ), (False, self._pred)):
            for other, keyed in adjacency.get(node, {}).items():
                for (rel_type, key), data in keyed.items():
                    yield other, rel_type, key, data, outgoing

    def degree(self, node: Node) -> int:
        """Number of relationships touching the node (Cypher: ``COUNT { (n)--() }``)."""
        succ = self._succ.get(node, {})
        pred = self._pred.get(node, {})
        return sum(len(k) for k in succ.values()) + sum(len(k) for k in pred.values())

    def is_agent(self, node: Node) -> bool:
        """True for a registration agent (has an outgoing REGISTRATION_AGENT_OF)."""
        return any(True for _ in self.out(node, ("REGISTRATION_AGENT_OF",)))


def eprops(data: dict[str, Any]) -> dict[str, Any]:
    """An edge's properties."""
    return data["props"]


def coalesce(*values: Any) -> Any:
    """The first value that is not None (Cypher ``coalesce``)."""
    for value in values:
        if value is not None:
            return value
    return None


def caption(g: G, node: Node) -> str:
    """``coalesce(n.name, n.full, n.key)``: what the queries show for a node."""
    props = g.props(node)
    return coalesce(props.get("name"), props.get("full"), node[1])


def cypher_round(value: float | None, digits: int = 0) -> float | None:
    """Neo4j's ``round(x, digits)``: half-up on the shortest decimal form, returned as a float."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def cypher_str(value: Any) -> str:
    """Neo4j's ``toString`` for the booleans, numbers and strings the queries format."""
    return value_text(value)


def role(data: dict[str, Any]) -> str:
    """``coalesce(r.role, '')`` of a PARTICIPATED_IN relationship."""
    value = data["props"].get("role")
    return "" if value is None else value


def sort_key(value: Any) -> Any:
    """``coalesce(value, '')`` for ORDER BY on nullable strings."""
    return "" if value is None else value
