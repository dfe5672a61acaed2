"""The identity layer: which records speak of the same hull, company or person.

It sits between the loaders' records and the stores' writes (``Store.write`` calls it), so every
source and both stores resolve identities the same way. ``hulls`` joins facts keyed by MMSI to the
IMO-numbered hull that held the MMSI at the fact's time. See docs/model.md, "Identity".
"""
