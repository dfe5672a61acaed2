"""The Neo4j store: the official driver, batched ``UNWIND ... MERGE`` writes, values only as parameters.

Labels, relationship types and property names are interpolated into Cypher only after the schema has
validated them; every value travels as a parameter. Each write batch is one round trip; with
``atomic=True`` all batches of a write share one transaction, so a failed load leaves the graph as it
was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from neo4j import Driver, GraphDatabase, ManagedTransaction, Session, Transaction
from neo4j.exceptions import AuthError, ClientError, Neo4jError, ServiceUnavailable

from graph import evidence
from graph.schema import Schema
from graph.store import (
    Counts,
    Deletions,
    Direction,
    EdgeGroups,
    EdgeRow,
    EdgeView,
    NodeGroups,
    NodeRow,
    NodeView,
    ProgressFn,
    Store,
    StoreError,
    StoreUnavailable,
    WriteStats,
)

DEFAULT_URI = "bolt://127.0.0.1:7687"
_MANAGED = ("key", "provenance")
Runner = Transaction | ManagedTransaction

HINT = (
    "start the local server with `shadowfleet neo4j start`, or point NEO4J_URI, NEO4J_USERNAME "
    "and NEO4J_PASSWORD at a running Neo4j"
)


def _prov_merge(var: str) -> str:
    return (
        f"SET {var}.provenance = coalesce({var}.provenance, []) + "
        f"[p IN row.prov WHERE NOT p IN coalesce({var}.provenance, [])]"
    )


def _split(props: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    data = dict(props)
    provenance = list(data.pop("provenance", None) or [])
    claims = list(data.pop("claims", None) or [])
    data.pop("key", None)
    return data, provenance, claims


class Neo4jStore(Store):
    """A store backed by a Neo4j 5 server."""

    backend = "neo4j"
    default_batch_size = 10_000

    def __init__(
        self,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        schema: Schema | None = None,
    ) -> None:
        super().__init__(schema)
        self.uri = uri or os.environ.get("NEO4J_URI") or DEFAULT_URI
        user = user if user is not None else os.environ.get("NEO4J_USERNAME")
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
        self.database = database or os.environ.get("NEO4J_DATABASE") or "neo4j"
        auth = (user, password) if user and password else None
        try:
            self.driver: Driver = GraphDatabase.driver(self.uri, auth=auth)
            self.driver.verify_connectivity()
        except (ServiceUnavailable, OSError, ValueError) as exc:
            raise StoreUnavailable(f"cannot reach Neo4j at {self.uri} ({_reason(exc)}); {HINT}") from exc
        except AuthError as exc:
            raise StoreUnavailable(
                f"Neo4j at {self.uri} refused the credentials ({_reason(exc)}); set NEO4J_USERNAME and "
                "NEO4J_PASSWORD"
            ) from exc
        self._schema_ready = False

    @property
    def location(self) -> str:
        return f"{self.uri} (database {self.database})"

    def _session(self) -> Session:
        return self.driver.session(database=self.database)

    def close(self) -> None:
        self.driver.close()

    # ---- schema -----------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the uniqueness constraints and indexes generated from the schema (idempotent)."""
        if self._schema_ready:
            return
        with self._session() as session:
            for statement in self.schema.obsolete_cypher() + self.schema.constraints_cypher():
                session.run(statement).consume()
            session.run("CALL db.awaitIndexes(300)").consume()
        self._schema_ready = True

    # ---- writes -----------------------------------------------------------------------------

    def _node_query(self, label: str) -> str:
        self.schema.node(label)
        return (
            f"UNWIND $rows AS row MERGE (n:{label} {{key: row.key}}) "
            f"SET n += row.props, n.claims = row.claims {_prov_merge('n')}"
        )

    def _edge_query(self, rel_type: str, src_label: str, dst_label: str) -> str:
        self.schema.check_edge(rel_type, src_label, dst_label, {})
        return (
            f"UNWIND $rows AS row "
            f"MATCH (a:{src_label} {{key: row.src}}) MATCH (b:{dst_label} {{key: row.dst}}) "
            f"MERGE (a)-[r:{rel_type} {{key: row.key}}]->(b) "
            f"SET r += row.props {_prov_merge('r')} RETURN count(r) AS written"
        )

    def _write_rows(
        self,
        nodes: NodeGroups,
        edges: EdgeGroups,
        batch_size: int,
        *,
        atomic: bool,
        progress: ProgressFn | None,
        deletes: Deletions | None = None,
    ) -> WriteStats:
        self.ensure_schema()
        stats = WriteStats()
        work: list[Callable[[Runner], None]] = []
        if deletes:
            work.append(self._delete_step(deletes))
        for label, rows in nodes.items():
            query = self._node_query(label)
            values = list(rows.values())
            for start in range(0, len(values), batch_size):
                chunk = values[start : start + batch_size]
                work.append(self._node_batch(query, label, chunk, stats, progress))
        for (rel_type, src_label, dst_label), erows in edges.items():
            query = self._edge_query(rel_type, src_label, dst_label)
            evalues = list(erows.values())
            for start in range(0, len(evalues), batch_size):
                chunk = evalues[start : start + batch_size]
                work.append(self._edge_batch(query, (rel_type, src_label, dst_label), chunk, stats, progress))
        try:
            with self._session() as session:
                if atomic:
                    with session.begin_transaction() as tx:
                        for step in work:
                            step(tx)
                        tx.commit()
                else:
                    for step in work:
                        session.execute_write(step)
        except ServiceUnavailable as exc:
            raise StoreUnavailable(f"lost Neo4j at {self.uri} ({_reason(exc)}); {HINT}") from exc
        except Neo4jError as exc:
            raise StoreError(f"Neo4j at {self.uri} rejected the write: {_reason(exc)}") from exc
        return stats

    def _delete_step(self, deletes: Deletions) -> Callable[[Runner], None]:
        """Delete relationships, then nodes (with what still touches them); one query per type or label
        named by the validated schema, values as parameters."""
        by_type: dict[tuple[str, str, str], list[dict[str, str]]] = {}
        for rel_type, src_label, src, dst_label, dst, key in deletes.edges:
            self.schema.check_edge(rel_type, src_label, dst_label, {})
            by_type.setdefault((rel_type, src_label, dst_label), []).append(
                {"src": src, "dst": dst, "key": key}
            )
        by_label: dict[str, list[str]] = {}
        for label, key in deletes.nodes:
            self.schema.node(label)
            by_label.setdefault(label, []).append(key)

        retract: dict[str, list[str]] = {}
        for label, key in deletes.retract:
            self.schema.node(label)
            retract.setdefault(label, []).append(key)

        def run(tx: Runner) -> None:
            for label, keys in retract.items():
                found = tx.run(
                    f"MATCH (n:{label}) WHERE n.key IN $keys RETURN n.key AS key, properties(n) AS props",
                    keys=keys,
                )
                rows = []
                for rec in found:
                    props, prov, claims = _split(rec["props"])
                    props, prov, claims = evidence.retract(
                        props, prov, claims, deletes.retract[(label, rec["key"])]
                    )
                    rows.append(
                        {
                            "key": rec["key"],
                            "props": {**props, "key": rec["key"], "provenance": prov, "claims": claims},
                        }
                    )
                tx.run(
                    f"UNWIND $rows AS row MATCH (n:{label} {{key: row.key}}) SET n = row.props", rows=rows
                ).consume()
            for (rel_type, src_label, dst_label), rows in by_type.items():
                tx.run(
                    f"UNWIND $rows AS row MATCH (:{src_label} {{key: row.src}})"
                    f"-[r:{rel_type} {{key: row.key}}]->(:{dst_label} {{key: row.dst}}) DELETE r",
                    rows=rows,
                ).consume()
            for label, keys in by_label.items():
                tx.run(f"MATCH (n:{label}) WHERE n.key IN $keys DETACH DELETE n", keys=keys).consume()

        return run

    @staticmethod
    def _node_batch(
        query: str, label: str, chunk: list[NodeRow], stats: WriteStats, progress: ProgressFn | None
    ) -> Callable[[Runner], None]:
        def run(tx: Runner) -> None:
            # The claims already stored decide the current values (graph/evidence.py): read them in
            # the same transaction, one round trip per batch.
            stored = {
                rec["key"]: list(rec["claims"] or [])
                for rec in tx.run(
                    f"MATCH (n:{label}) WHERE n.key IN $keys RETURN n.key AS key, n['claims'] AS claims",
                    keys=[r.key for r in chunk],
                )
            }
            rows = []
            for r in chunk:
                props, claims = r.resolve(stored.get(r.key))
                rows.append({"key": r.key, "props": props, "prov": r.prov, "claims": claims})
            counters = tx.run(query, rows=rows).consume().counters
            stats.nodes_created += counters.nodes_created
            stats.nodes_merged += len(rows) - counters.nodes_created
            if counters.nodes_created:
                stats.created_by_label[label] = stats.created_by_label.get(label, 0) + counters.nodes_created
            if progress:
                progress(len(rows))

        return run

    def _edge_batch(
        self,
        query: str,
        group: tuple[str, str, str],
        chunk: list[EdgeRow],
        stats: WriteStats,
        progress: ProgressFn | None,
    ) -> Callable[[Runner], None]:
        rows = [
            {
                "src": r.src,
                "dst": r.dst,
                "key": r.key,
                "props": {k: v for k, v in r.props.items() if v is not None},
                "prov": r.prov,
            }
            for r in chunk
        ]

        def run(tx: Runner) -> None:
            result = tx.run(query, rows=rows)
            written = result.single(strict=True)["written"]
            counters = result.consume().counters
            if written != len(rows):
                raise StoreError(self._missing_endpoint(tx, group, rows))
            stats.edges_created += counters.relationships_created
            stats.edges_merged += len(rows) - counters.relationships_created
            if progress:
                progress(len(rows))

        return run

    def _missing_endpoint(self, tx: Runner, group: tuple[str, str, str], rows: list[dict[str, Any]]) -> str:
        rel_type, src_label, dst_label = group
        for label, field in ((src_label, "src"), (dst_label, "dst")):
            keys = sorted({row[field] for row in rows})
            found = {
                rec["key"]
                for rec in tx.run(f"MATCH (n:{label}) WHERE n.key IN $keys RETURN n.key AS key", keys=keys)
            }
            missing = [k for k in keys if k not in found]
            if missing:
                return (
                    f"{rel_type} refers to a missing node {label} {missing[0]!r}; "
                    "loaders must yield both ends of every relationship"
                )
        return f"{rel_type}: fewer relationships written than requested"

    # ---- reads ------------------------------------------------------------------------------

    def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        try:
            with self._session() as session:
                return session.execute_read(lambda tx: [r.data() for r in tx.run(query, **params)])
        except ServiceUnavailable as exc:
            raise StoreUnavailable(f"lost Neo4j at {self.uri} ({_reason(exc)}); {HINT}") from exc

    def counts(self) -> Counts:
        node_parts = [
            f"MATCH (n:{label}) RETURN 'node' AS kind, '{label}' AS name, count(n) AS n"
            for label in sorted(self.schema.nodes)
        ]
        rel_parts = [
            f"MATCH ()-[r:{rel_type}]->() RETURN 'rel' AS kind, '{rel_type}' AS name, count(r) AS n"
            for rel_type in sorted(self.schema.relationships)
        ]
        rows = self._read(
            "CALL () { " + " UNION ALL ".join(node_parts + rel_parts) + " } RETURN kind, name, n"
        )
        nodes = {r["name"]: r["n"] for r in rows if r["kind"] == "node" and r["n"]}
        rels = {r["name"]: r["n"] for r in rows if r["kind"] == "rel" and r["n"]}
        return Counts(nodes, rels)

    def get_nodes(self, label: str, keys: Sequence[str]) -> dict[str, NodeView]:
        self.schema.node(label)
        rows = self._read(
            f"MATCH (n:{label}) WHERE n.key IN $keys RETURN n.key AS key, properties(n) AS props",
            keys=list(keys),
        )
        out: dict[str, NodeView] = {}
        for row in rows:
            out[row["key"]] = NodeView(label, row["key"], *_split(row["props"]))
        return out

    def scan_nodes(self, label: str, batch_size: int = 10_000) -> Iterator[list[NodeView]]:
        self.schema.node(label)
        after = ""
        while True:
            rows = self._read(
                f"MATCH (n:{label}) WHERE n.key > $after "
                "RETURN n.key AS key, properties(n) AS props ORDER BY n.key LIMIT $limit",
                after=after,
                limit=batch_size,
            )
            if not rows:
                return
            yield [NodeView(label, r["key"], *_split(r["props"])) for r in rows]
            after = rows[-1]["key"]

    def find_nodes(self, label: str, prop: str, values: Sequence[Any]) -> list[NodeView]:
        node = self.schema.node(label)
        if prop not in node.properties:
            raise StoreError(f"{label} has no property {prop!r}")
        rows = self._read(
            f"MATCH (n:{label}) WHERE n.{prop} IN $values RETURN n.key AS key, properties(n) AS props",
            values=list(values),
        )
        return [NodeView(label, r["key"], *_split(r["props"])) for r in rows]

    def edges(
        self,
        label: str,
        keys: Sequence[str],
        types: Sequence[str] | None = None,
        direction: Direction = "out",
    ) -> list[EdgeView]:
        self.schema.node(label)
        type_filter = ""
        if types is not None:
            if not types:
                return []
            for rel_type in types:
                self.schema.rel(rel_type)
            type_filter = ":" + "|".join(types)
        pattern = (
            f"(a:{label})-[r{type_filter}]->(b)"
            if direction == "out"
            else f"(b)-[r{type_filter}]->(a:{label})"
        )
        rows = self._read(
            f"MATCH {pattern} WHERE a.key IN $keys "
            "RETURN a.key AS a, labels(b)[0] AS b_label, b.key AS b, type(r) AS type, properties(r) AS props",
            keys=list(keys),
        )
        out: list[EdgeView] = []
        for row in rows:
            props, prov, _ = _split(row["props"])
            if direction == "out":
                out.append(
                    EdgeView(
                        row["type"],
                        label,
                        row["a"],
                        row["b_label"],
                        row["b"],
                        row["props"]["key"],
                        props,
                        prov,
                    )
                )
            else:
                out.append(
                    EdgeView(
                        row["type"],
                        row["b_label"],
                        row["b"],
                        label,
                        row["a"],
                        row["props"]["key"],
                        props,
                        prov,
                    )
                )
        return out

    def run_cypher(self, cypher: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run read-only Cypher (a canned query's text) with parameters and return the rows."""
        try:
            return self._read(cypher, **dict(params))
        except ClientError as exc:
            raise StoreError(f"Neo4j rejected the query: {_reason(exc)}") from exc

    def clear(self) -> None:
        with self._session() as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]
