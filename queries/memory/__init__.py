"""The embedded store's implementations of the canned queries: one module per query, ``run(store, params)``.

Each module answers exactly what the query's Cypher answers, over the networkx graph, with the same
columns and the same ORDER BY, so that a parity test can compare the two stores row for row.
"""
