"""The identity layer: which records speak of the same hull, company or person.

It sits between the loaders' records and the stores' writes (``Store.write`` calls ``resolve_batch``),
so every source and both stores resolve identities the same way:

* ``hulls``: facts keyed by MMSI join the IMO-numbered hull that held the MMSI at the fact's time;
* ``companies``: companies named without an identifier join the one company with the identifier;
* ``merge``: the reversible moves both use, and that judgements (``shadowfleet resolve decide``) use;
* ``aliases``: later references to a key merged away go to the node it joined.

See docs/model.md, "Identity and evidence".
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.identity import aliases, companies, hulls
from graph.identity.merge import Reader, Relocation
from graph.records import Record


def resolve_batch(records: Sequence[Record], reader: Reader) -> tuple[list[Record], Relocation]:
    """The batch with every reference resolved to its entity's node, and the moves of stored facts
    that this batch's identities now explain (to write in the same transaction)."""
    resolved = aliases.resolve(records, reader)
    resolved = hulls.resolve(resolved, reader)
    resolved, move = companies.resolve(resolved, reader)
    moved_hulls = hulls.relocations(resolved, reader)
    if moved_hulls is not None:
        move.add(moved_hulls)
    return resolved, move
