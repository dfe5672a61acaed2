"""The graph model (schema, records) and the stores that hold it."""
