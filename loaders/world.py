"""Seeded synthetic worlds of any size, for tests, demos and benchmarks.

``generate_world(seed, vessels)`` streams node and edge records that look like what the loaders produce
from registries, corporate records, sanctions lists and AIS event detectors: vessels with valid IMO
numbers (a few keyed by MMSI only) and dated identity histories (names, flags, MMSIs, call signs),
companies in shell clusters sharing addresses, agents and nominee directors, persons as directors,
shareholders and beneficial owners, owners and managers per vessel over time, port calls, ship-to-ship
transfers, AIS gaps and sanctions entries. Every company, person, vessel and street name is made up
from syllables or word lists; port names are fictional except five real Russian Far East and DPRK ports.

The stream is deterministic for a seed and its parameters, and memory-light: any entity's key is a pure
function of its index (hashes, not stored tables), so an edge can name an entity yielded long before
without the generator remembering it. Each node and each relationship is yielded exactly once, always
after both of its ends, so the figures a :class:`World` counts are what a store holds after the write.

Sizes with seed 1 and defaults for everything but ``vessels`` (exact up to 22,000; `world_size`
gives the figures for any other parameters):

=========  ============  ===============  ============
vessels    nodes         relationships    records
=========  ============  ===============  ============
100        1,319         2,458            3,777
1,000      12,176        23,931           36,107
22,000     266,902       528,511          795,413
100,000    ≈ 1,212,000   ≈ 2,394,000      ≈ 3,606,000
=========  ============  ===============  ============

The canned-query benchmark's world, ``World(1, 100_000, companies=200_000, events=1_000_000)``, has
2,062,263 nodes and 4,297,873 relationships (6,360,136 records), among them exactly 1,000,000 events
(601,099 port calls, 249,667 AIS gaps, 149,234 STS transfers).
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from random import Random

from graph.keys import address_key, company_key, name_key, person_key, vessel_key
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.store import Counts, ProgressFn, Store, WriteStats

__all__ = [
    "RETRIEVED_AT",
    "SOURCE",
    "World",
    "WorldLoad",
    "WorldParams",
    "generate_world",
    "world_size",
    "write_world",
]

SOURCE = "generator"
RETRIEVED_AT = "2024-07-01T00:00:00Z"
MAX_VESSELS = 900_000  # IMO numbers are six digits plus a check digit
MAX_COMPANIES = 900_000  # the same for IMO company numbers

# ---- reference tables --------------------------------------------------------------------------
# ISO code -> (ITU maritime identification digits, call sign prefix). The MIDs are the real ITU ones.
COUNTRIES: dict[str, tuple[tuple[int, ...], str]] = {
    "PA": ((351, 352, 353, 354, 355, 356, 357, 370, 371, 372, 373), "3E"),
    "LR": ((636, 637), "D5"),
    "MH": ((538,), "V7"),
    "MT": ((215, 229, 248, 249, 256), "9H"),
    "BS": ((308, 309, 311), "C6"),
    "SG": ((563, 564, 565, 566), "9V"),
    "HK": ((477,), "VR"),
    "CN": ((412, 413, 414), "BQ"),
    "GR": ((237, 239, 240, 241), "SV"),
    "CY": ((209, 210, 212), "5B"),
    "RU": ((273,), "UB"),
    "KP": ((445,), "HM"),
    "KM": ((616,), "D6"),
    "CM": ((613,), "TJ"),
    "SL": ((667,), "9L"),
    "TG": ((671,), "5V"),
    "GA": ((626,), "TR"),
    "PW": ((511,), "T8"),
    "TZ": ((674, 677), "5I"),
    "VC": ((375, 376, 377), "J8"),
    "BZ": ((312,), "V3"),
    "MN": ((457,), "JV"),
    "KH": ((514, 515), "XU"),
    "AE": ((470, 471), "A6"),
    "IR": ((422,), "EP"),
    "IN": ((419,), "AU"),
    "TR": ((271,), "TC"),
    "VN": ((574,), "3W"),
    "ST": ((668,), "S9"),
    "GQ": ((631,), "3C"),
    "CK": ((518,), "E5"),
    "HN": ((334,), "HQ"),
    "SC": ((664,), "S7"),
    "VG": ((378,), "VP"),
    "GB": ((232, 233, 234, 235), "2A"),
    "NO": ((257, 258, 259), "LA"),
    "JP": ((431, 432), "7J"),
    "KR": ((440, 441), "DS"),
    "GE": ((213,), "4L"),
}
COUNTRY_CODES = tuple(COUNTRIES)
_FALLBACK_NAMES = {"KP": "North Korea", "HK": "Hong Kong", "VG": "British Virgin Islands"}

# Weighted tables (code, weight): flags of vessels, jurisdictions of companies, nationalities.
_FLAG_WEIGHTS = (
    ("PA", 17), ("LR", 14), ("MH", 12), ("MT", 6), ("BS", 4), ("SG", 5), ("HK", 5), ("CN", 5),
    ("GR", 3), ("CY", 2), ("RU", 5), ("KP", 2), ("KM", 3), ("CM", 3), ("SL", 2), ("TG", 2),
    ("GA", 2), ("PW", 2), ("TZ", 1), ("VC", 1), ("BZ", 1), ("MN", 1), ("KH", 1), ("IR", 1),
    ("IN", 1), ("TR", 1), ("VN", 1), ("ST", 1), ("GQ", 1), ("CK", 1), ("HN", 1), ("NO", 1),
    ("JP", 1), ("KR", 1),
)  # fmt: skip
_JURISDICTION_WEIGHTS = (
    ("MH", 14), ("HK", 12), ("AE", 10), ("LR", 8), ("PA", 8), ("SC", 6), ("VG", 6), ("CY", 5),
    ("SG", 5), ("GR", 5), ("RU", 5), ("CN", 5), ("GB", 4), ("TR", 3), ("IN", 2), ("KP", 1), ("GE", 1),
)  # fmt: skip
_SHELL_JURISDICTIONS = ("MH", "SC", "VG", "HK", "AE", "LR", "PA", "CY", "BZ")
_NATIONALITY_WEIGHTS = (
    ("RU", 10), ("CN", 8), ("GR", 6), ("AE", 4), ("IN", 6), ("TR", 5), ("HK", 3), ("SG", 3),
    ("GB", 3), ("CY", 3), ("GE", 2), ("KP", 2), ("IR", 2), ("NO", 1), ("KR", 1), ("JP", 1),
)  # fmt: skip
_CITIES = {
    "MH": "Majuro", "HK": "Hong Kong", "AE": "Dubai", "LR": "Monrovia", "PA": "Panama City",
    "SC": "Victoria", "VG": "Road Town", "CY": "Limassol", "SG": "Singapore", "GR": "Piraeus",
    "RU": "Vladivostok", "CN": "Shanghai", "GB": "London", "TR": "Istanbul", "IN": "Mumbai",
    "KP": "Pyongyang", "GE": "Batumi", "BZ": "Belize City",
}  # fmt: skip

# (key, name, country, lat, lon): real ports, by UN/LOCODE.
REAL_PORTS = (
    ("RUVVO", "Vladivostok", "RU", 43.11, 131.88),
    ("RUNJK", "Nakhodka", "RU", 42.81, 132.89),
    ("RUVYP", "Vostochny", "RU", 42.74, 133.07),
    ("KPNAM", "Nampo", "KP", 38.73, 125.40),
    ("KPCHO", "Chongjin", "KP", 41.78, 129.82),
)
# (lat, lon) of areas where ship-to-ship transfers cluster.
_STS_AREAS = (
    (42.70, 133.20), (38.60, 124.80), (36.60, 22.80), (35.90, -5.30), (1.35, 104.30),
    (25.30, 56.50), (45.30, 36.60), (30.00, 123.50),
)  # fmt: skip

_SYLLABLES = (
    "ka", "ve", "lor", "tan", "mir", "sel", "dor", "vak", "ren", "zo", "bel", "nix", "tor", "qua",
    "lin", "mar", "sor", "pel", "gan", "rix", "dal", "fen", "kor", "lum", "nar", "ost", "pra", "sun",
    "tev", "ula", "vor", "wen", "xan", "yar", "zel", "bri", "cas", "dun", "eld", "fal",
)  # fmt: skip
_VESSEL_ADJ = (
    "ARCTIC", "AMBER", "AZURE", "BOLD", "BRIGHT", "CALM", "CORAL", "CRIMSON", "DAWN", "EASTERN",
    "EMERALD", "EVER", "FAIR", "GOLDEN", "GRAND", "GREAT", "HAPPY", "IRON", "IVORY", "JADE", "LUCKY",
    "MIGHTY", "MORNING", "NOBLE", "NORTHERN", "OCEAN", "PACIFIC", "PEARL", "PRIME", "PROUD", "QUIET",
    "RAPID", "ROYAL", "RUBY", "SCARLET", "SILVER", "SOUTHERN", "STAR", "STEADY", "STORM", "SUN",
    "SWIFT", "TIDAL", "TRUE", "VELVET", "VIVID", "WESTERN", "WILD", "WINTER", "ZEPHYR",
)  # fmt: skip
_VESSEL_NOUN = (
    "ALBATROSS", "ANCHOR", "ARROW", "AURORA", "BAY", "BREEZE", "CAPE", "CARRIER", "COMET", "CREST",
    "CROWN", "CURRENT", "DOLPHIN", "DRAGON", "EAGLE", "ECHO", "FALCON", "FORTUNE", "GLORY", "GULL",
    "HARBOUR", "HARMONY", "HAWK", "HERON", "HORIZON", "ISLAND", "JOURNEY", "KESTREL", "LAGOON",
    "LEGEND", "LOTUS", "MARINER", "MERIDIAN", "MOON", "NAVIGATOR", "ORCHID", "OSPREY", "PETREL",
    "PHOENIX", "PIONEER", "PRIDE", "QUEST", "RAVEN", "REEF", "RIVER", "SAGA", "SPIRIT", "SUMMIT",
    "SWAN", "TERN", "TIDE", "TRADER", "VENTURE", "VOYAGER", "WAVE", "WIND",
)  # fmt: skip
_COMPANY_WORDS = (
    "Shipping", "Maritime", "Navigation", "Marine", "Tankers", "Bulk", "Trading", "Ocean", "Logistics",
    "Shipholding", "Carriers", "Seaways", "Energy", "Holdings", "Ship Management", "Line",
)  # fmt: skip
_COMPANY_SUFFIX = {
    "MH": "Inc", "LR": "Corp", "PA": "S.A.", "HK": "Co. Limited", "AE": "FZE", "SC": "Ltd", "VG": "Ltd",
    "CY": "Ltd", "SG": "Pte. Ltd.", "GR": "S.A.", "RU": "LLC", "CN": "Co., Ltd", "GB": "Limited",
    "TR": "A.S.", "IN": "Pvt Ltd", "KP": "Corporation", "GE": "LLC", "BZ": "Ltd",
}  # fmt: skip
_STREET_TYPES = ("Road", "Street", "Avenue", "Lane", "Boulevard", "Quay", "Wharf", "Drive")
_VESSEL_TYPES = (
    ("Crude Oil Tanker", 40), ("Oil Products Tanker", 20), ("Chemical Tanker", 10), ("Bulk Carrier", 15),
    ("General Cargo", 10), ("LPG Tanker", 3), ("Container Ship", 2),
)  # fmt: skip
_CARGOES = ("crude oil", "fuel oil", "refined products", "coal", "unknown")
_ROLES = ("director", "director", "director", "secretary", "nominee director")
_MAX_PERIODS = 4  # identity periods per attribute and vessel; the MMSI/call sign sequence relies on it

_START = date(2000, 1, 1).toordinal()
_END = date(2024, 6, 30).toordinal()
_EVENT_START = date(2022, 1, 1).toordinal()

_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64: a fast, well-mixed 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _table(weights: tuple[tuple[str, int], ...], size: int = 1000) -> tuple[str, ...]:
    """A lookup table of ``size`` slots filled in proportion to the weights (index it with a hash)."""
    total = sum(w for _, w in weights)
    out: list[str] = []
    for code, w in weights:
        out += [code] * round(size * w / total)
    while len(out) < size:
        out.append(weights[0][0])
    return tuple(out[:size])


_FLAG_TABLE = _table(_FLAG_WEIGHTS)
_JURISDICTION_TABLE = _table(_JURISDICTION_WEIGHTS)
_NATIONALITY_TABLE = _table(_NATIONALITY_WEIGHTS)


def _day(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def imo_check_digit(six: str) -> str:
    """Check digit of an IMO ship number from its first six digits."""
    return str(sum(int(d) * w for d, w in zip(six, (7, 6, 5, 4, 3, 2), strict=True)) % 10)


def imo_company_check_digit(six: str) -> str:
    """Check digit of an IMO company number from its first six digits."""
    total = sum(int(d) * w for d, w in zip(six, (8, 6, 4, 2, 9, 7), strict=True))
    return str((11 - total % 11) % 10)


def _base36(n: int, width: int) -> str:
    digits = string.digits + string.ascii_uppercase
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(digits[r])
    return "".join(reversed(out))


@dataclass(frozen=True)
class WorldParams:
    """The resolved parameters of a world (defaults filled in from ``vessels``)."""

    seed: int
    vessels: int
    companies: int
    persons: int
    events: int
    ports: int
    sanctioned_share: float = 0.02
    no_imo_share: float = 0.06
    mid_mismatch_share: float = 0.05
    shared_name_share: float = 0.01

    @classmethod
    def resolve(
        cls,
        seed: int,
        vessels: int,
        companies: int | None = None,
        persons: int | None = None,
        events: int | None = None,
        ports: int | None = None,
        **shares: float,
    ) -> WorldParams:
        """Fill in defaults: 0.6 companies, 0.5 persons and 4 events per vessel, one port per 50."""
        params = cls(
            seed=seed,
            vessels=vessels,
            companies=round(vessels * 0.6) if companies is None else companies,
            persons=round(vessels * 0.5) if persons is None else persons,
            events=vessels * 4 if events is None else events,
            ports=min(2000, max(20, vessels // 50)) if ports is None else ports,
            **shares,
        )
        if not 0 <= params.vessels <= MAX_VESSELS:
            raise ValueError(f"vessels must be between 0 and {MAX_VESSELS:,}")
        if not 0 <= params.companies <= MAX_COMPANIES:
            raise ValueError(f"companies must be between 0 and {MAX_COMPANIES:,}")
        if params.persons < 0 or params.events < 0 or params.ports < len(REAL_PORTS):
            raise ValueError(f"persons and events must be >= 0 and ports >= {len(REAL_PORTS)}")
        return params


@dataclass(frozen=True)
class WorldLoad:
    """What :func:`write_world` did: the store's write figures and the generator's own counts."""

    stats: WriteStats
    counts: Counts


class World:
    """A synthetic world: iterate it for records; :meth:`counts` is exact after one full pass.

    Iterating again yields the same records (and recounts them).
    """

    def __init__(
        self,
        seed: int,
        vessels: int,
        companies: int | None = None,
        persons: int | None = None,
        events: int | None = None,
        *,
        ports: int | None = None,
        **shares: float,
    ) -> None:
        self.params = WorldParams.resolve(seed, vessels, companies, persons, events, ports, **shares)
        p = self.params
        self._salt = _mix(p.seed * 0x2545F4914F6CDD1D + 0x1234567)
        self._nodes: Counter[str] = Counter()
        self._rels: Counter[str] = Counter()
        self._fixed: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
        self._n = 0
        self._complete = False
        self._prov_prefix = f"seed{p.seed}#"
        self._n_mgr = max(1, p.companies // 20) if p.companies else 0
        self._n_agents = min(self._n_mgr, 12)
        offsets = _mix(self._salt ^ 0xABCDEF)
        self._imo_off = offsets % 900_000
        self._co_off = (offsets >> 20) % 900_000
        self._mmsi_off = (offsets >> 40) % 1_000_000
        self._cs_off = _mix(offsets) % 36**5
        self._name_off = _mix(offsets + 1) % (len(_VESSEL_ADJ) * len(_VESSEL_NOUN))

    # ---- results -------------------------------------------------------------------------------

    def counts(self) -> Counts:
        """Nodes by label and relationships by type yielded by the last full pass."""
        if not self._complete:
            raise RuntimeError("iterate the whole world before asking for its counts")
        return Counts(dict(self._nodes), dict(self._rels))

    def fixed_counts(self) -> Counts:
        """The part of :meth:`counts` that does not grow with the world (countries and ports)."""
        if not self._complete:
            raise RuntimeError("iterate the whole world before asking for its counts")
        return Counts(dict(self._fixed[0]), dict(self._fixed[1]))

    # ---- hashing helpers -----------------------------------------------------------------------

    def _h(self, tag: int, i: int, j: int = 0) -> int:
        return _mix(self._salt + (tag << 56) + (i << 3) + j)

    def _prov(self) -> Provenance:
        self._n += 1
        return Provenance(SOURCE, f"{self._prov_prefix}{self._n}", RETRIEVED_AT)

    def _node(self, label: str, key: str, props: dict) -> NodeRecord:
        self._nodes[label] += 1
        return NodeRecord(label, key, props, self._prov())

    def _edge(
        self,
        rel: str,
        src_label: str,
        src: str,
        dst_label: str,
        dst: str,
        key: str = "",
        props: dict | None = None,
    ) -> EdgeRecord:
        self._rels[rel] += 1
        return EdgeRecord(rel, src_label, src, dst_label, dst, key, props or {}, self._prov())

    # ---- identities as pure functions of an index --------------------------------------------

    def vessel_name(self, n: int) -> str:
        """The n-th vessel name; distinct n give distinct names."""
        block = len(_VESSEL_ADJ) * len(_VESSEL_NOUN)
        turn, pos = divmod(n, block)
        pos = (pos * 7919 + self._name_off) % block
        adj, noun = _VESSEL_ADJ[pos % len(_VESSEL_ADJ)], _VESSEL_NOUN[pos // len(_VESSEL_ADJ)]
        return f"{adj} {noun}" if turn == 0 else f"{adj} {noun} {turn + 1}"

    def imo(self, i: int) -> str:
        six = str(100_000 + (i * 379_721 + self._imo_off) % 900_000)
        return six + imo_check_digit(six)

    def n_flags(self, i: int) -> int:
        r = self._h(1, i) % 100
        return 1 if r < 35 else 2 if r < 70 else 3 if r < 90 else 4

    def flag(self, i: int, p: int) -> str:
        code = _FLAG_TABLE[self._h(2, i, p) % 1000]
        if p and code == self.flag(i, p - 1):
            code = _FLAG_TABLE[(self._h(2, i, p) >> 20) % 1000]
            if code == self.flag(i, p - 1):
                code = COUNTRY_CODES[(COUNTRY_CODES.index(code) + 1) % len(COUNTRY_CODES)]
        return code

    def mmsi(self, i: int, p: int) -> tuple[str, str]:
        """The MMSI vessel ``i`` used in flag period ``p``, and the country of its MID."""
        h = self._h(3, i, p)
        country = self.flag(i, p)
        if h % 10_000 < self.params.mid_mismatch_share * 10_000:
            other = COUNTRY_CODES[(h >> 16) % len(COUNTRY_CODES)]
            country = other if other != country else COUNTRY_CODES[0 if country != "PA" else 1]
        mids = COUNTRIES[country][0]
        mid = mids[(h >> 32) % len(mids)]
        serial = ((i * _MAX_PERIODS + p) * 387_413 + self._mmsi_off) % 1_000_000
        return f"{mid}{serial:06d}", country

    def _mmsi_first_use(self, i: int, p: int) -> bool:
        """True unless an earlier vessel drew the same MMSI (possible only 250,000 vessels apart)."""
        mine = self.mmsi(i, p)[0]
        step = 1_000_000 // _MAX_PERIODS
        j = i - step
        while j >= 0:
            if p < self.n_flags(j) and self.mmsi(j, p)[0] == mine:
                return False
            j -= step
        return True

    def has_imo(self, i: int) -> bool:
        if self._h(4, i) % 10_000 >= self.params.no_imo_share * 10_000:
            return True
        # An MMSI-keyed vessel must not take the key of an earlier one.
        mine = self.mmsi(i, 0)[0]
        step = 1_000_000 // _MAX_PERIODS
        j = i - step
        while j >= 0:
            if not self.has_imo(j) and self.mmsi(j, 0)[0] == mine:
                return True
            j -= step
        return False

    def vessel_key(self, i: int) -> str:
        if self.has_imo(i):
            return f"imo:{self.imo(i)}"
        return vessel_key(mmsi=self.mmsi(i, 0)[0])

    def call_sign(self, i: int, p: int) -> str:
        serial = ((i * _MAX_PERIODS + p) * 387_419 + self._cs_off) % 36**5
        return COUNTRIES[self.flag(i, p)][1] + _base36(serial, 5)

    def _company_block(self, c: int) -> int:
        """0: independent company, 1: paired with its neighbour, 2: one of a shell cluster of eight."""
        b = c // 8
        if b * 8 < self._n_mgr:
            return 0
        r = self._h(5, b) % 100
        return 2 if r < 12 else 1 if r < 40 else 0

    def jurisdiction(self, c: int) -> str:
        if self._company_block(c) == 2:
            return _SHELL_JURISDICTIONS[self._h(6, c // 8) % len(_SHELL_JURISDICTIONS)]
        return _JURISDICTION_TABLE[self._h(6, c, 1) % 1000]

    def _company_ids(self, c: int) -> tuple[str, str, str | None]:
        """(jurisdiction, registration number, IMO company number or None) of company ``c``."""
        jur = self.jurisdiction(c)
        reg = f"{(c * 3_779_153 + self._co_off) % 10_000_000:07d}"
        imoco = None
        if self._h(7, c) % 100 < 35:
            six = str(100_000 + (c * 379_721 + self._co_off) % 900_000)
            imoco = six + imo_company_check_digit(six)
        return jur, reg, imoco

    def company_key(self, c: int) -> str:
        jur, reg, imoco = self._company_ids(c)
        return company_key(jurisdiction=jur, registration_number=reg, imo_company_number=imoco)

    def _address_leader(self, c: int) -> int:
        kind = self._company_block(c)
        if kind == 2:
            return c - c % 8
        if kind == 1:
            return c - c % 2
        return c

    def address(self, leader: int) -> tuple[str, str, str]:
        """(full text, city, country) of the address first used by company ``leader``."""
        country = self.jurisdiction(leader)
        city = _CITIES.get(country, "Port Louis")
        n_streets = len(_SYLLABLES) ** 2 * len(_STREET_TYPES)
        number, street = divmod(leader, n_streets)
        street = (street * 7_919) % n_streets
        s1, rest = divmod(street, len(_SYLLABLES) * len(_STREET_TYPES))
        s2, kind = divmod(rest, len(_STREET_TYPES))
        name = (_SYLLABLES[s1] + _SYLLABLES[s2]).capitalize()
        floor = self._h(8, leader) % 30 + 1
        full = f"Floor {floor}, {number + 1} {name} {_STREET_TYPES[kind]}, {city}, {country}"
        return full, city, country

    def person(self, q: int) -> tuple[str, str, str]:
        """(name, birth date, nationality) of person ``q``; distinct q give distinct names."""
        n_syl = len(_SYLLABLES)
        given_space = n_syl * n_syl
        turn, pos = divmod(q, given_space * n_syl * n_syl)
        pos = (pos * 7_919) % (given_space * n_syl * n_syl)
        g, f = divmod(pos, n_syl * n_syl)
        given = (_SYLLABLES[g // n_syl] + _SYLLABLES[g % n_syl]).capitalize()
        family = _SYLLABLES[f // n_syl] + _SYLLABLES[f % n_syl]
        family = (family + ("ov" if turn % 2 else "en") + ("ski" * (turn // 2))).capitalize()
        h = self._h(9, q)
        born = _day(date(1945, 1, 1).toordinal() + h % (50 * 365))
        return f"{given} {family}", born, _NATIONALITY_TABLE[(h >> 24) % 1000]

    def person_key(self, q: int) -> str:
        name, born, nationality = self.person(q)
        return person_key(name, born, nationality)

    def port(self, k: int) -> tuple[str, str, str, float, float, str | None]:
        """(key, name, country, lat, lon, locode) of port ``k``."""
        if k < len(REAL_PORTS):
            key, name, country, lat, lon = REAL_PORTS[k]
            return key, name, country, lat, lon, key
        n = k - len(REAL_PORTS)
        turn, pos = divmod(n, len(_SYLLABLES) ** 2)
        name = (_SYLLABLES[pos // len(_SYLLABLES)] + _SYLLABLES[pos % len(_SYLLABLES)]).capitalize()
        name += (" Harbour", " Bay", " Point", " Roads")[turn % 4] + (
            f" {turn // 4 + 1}" if turn >= 4 else ""
        )
        h = self._h(10, k)
        country = COUNTRY_CODES[h % len(COUNTRY_CODES)]
        lat = round(-40 + (h >> 16) % 10_000 / 100, 4)
        lon = round(-180 + (h >> 32) % 36_000 / 100, 4)
        return f"port:{name_key(name)}", name, country, lat, lon, None

    # ---- the stream ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Record]:
        self._nodes.clear()
        self._rels.clear()
        self._n = 0
        self._complete = False
        rng = Random(self._salt)
        yield from self._countries()
        yield from self._ports()
        self._fixed = (Counter(self._nodes), Counter(self._rels))
        yield from self._persons(rng)
        yield from self._companies(rng)
        yield from self._vessels(rng)
        self._complete = True

    def _countries(self) -> Iterator[Record]:
        from loaders.countries import Country, lookup_country

        for code in COUNTRY_CODES:
            country = lookup_country(code) or Country(code, _FALLBACK_NAMES.get(code, code), None)
            record = country.record()
            yield self._node("Country", code, dict(record.props))

    def _ports(self) -> Iterator[Record]:
        for k in range(self.params.ports):
            key, name, country, lat, lon, locode = self.port(k)
            props = {"name": name, "country": country, "lat": lat, "lon": lon, "locode": locode}
            yield self._node("Port", key, props)
            yield self._edge("LOCATED_IN", "Port", key, "Country", country)

    def _sanctions(self, rng: Random, label: str, key: str, name: str, ref: str) -> Iterator[Record]:
        entries = [("OFAC", "RUSSIA-EO14024" if rng.random() < 0.5 else "DPRK")]
        if entries[0][1] == "DPRK" and rng.random() < 0.5:
            entries.append(("UN", "DPRK"))
        for authority, program in entries:
            list_ref = f"SYN-{ref}"
            skey = f"{authority}:{list_ref}"
            listed = _day(date(2016, 1, 1).toordinal() + rng.randrange(8 * 365))
            yield self._node(
                "Sanction",
                skey,
                {
                    "authority": authority,
                    "program": program,
                    "list_name": "SDN" if authority == "OFAC" else "UN Security Council Consolidated List",
                    "list_reference": list_ref,
                    "listing_date": listed,
                    "remarks": "synthetic entry",
                },
            )
            yield self._edge("SANCTIONED_AS", label, key, "Sanction", skey, props={"listed_name": name})

    def _persons(self, rng: Random) -> Iterator[Record]:
        share = self.params.sanctioned_share / 2
        for q in range(self.params.persons):
            name, born, nationality = self.person(q)
            key = person_key(name, born, nationality)
            props = {"name": name, "birth_date": born, "nationality": nationality}
            if rng.random() < 0.05:
                props["aliases"] = [name.upper()]
            yield self._node("Person", key, props)
            yield self._edge("NATIONAL_OF", "Person", key, "Country", nationality)
            if rng.random() < share:
                yield from self._sanctions(rng, "Person", key, name, f"P{q:07d}")

    def _companies(self, rng: Random) -> Iterator[Record]:
        p = self.params
        share = p.sanctioned_share / 2
        for c in range(p.companies):
            kind = self._company_block(c)
            jur, reg, imoco = self._company_ids(c)
            key = company_key(jurisdiction=jur, registration_number=reg, imo_company_number=imoco)
            leader = self._address_leader(c)
            full, city, country = self.address(leader)
            akey = address_key(full)
            if leader == c:
                yield self._node("Address", akey, {"full": full, "city": city, "country": country})
                yield self._edge("LOCATED_IN", "Address", akey, "Country", country)
            stem_h = self._h(11, c // 8 if kind == 2 else c)
            stem = (_SYLLABLES[stem_h % 40] + _SYLLABLES[(stem_h >> 8) % 40]).capitalize()
            if kind != 2 and stem_h % 3 == 0:
                stem += _SYLLABLES[(stem_h >> 16) % 40]
            word = (
                _COMPANY_WORDS[(stem_h >> 24) % len(_COMPANY_WORDS)]
                if kind != 2
                else rng.choice(_VESSEL_NOUN)
            )
            name = f"{stem} {word.title()} {_COMPANY_SUFFIX.get(jur, 'Ltd')}"
            incorporated = _START + rng.randrange(_END - _START - 400)
            props = {
                "name": name,
                "jurisdiction": jur,
                "registration_number": reg,
                "imo_company_number": imoco,
                "incorporation_date": _day(incorporated),
            }
            if rng.random() < 0.04:
                props["dissolution_date"] = _day(
                    incorporated + 365 + rng.randrange(_END - incorporated - 365)
                )
            if rng.random() < 0.05:
                props["aliases"] = [f"{stem} {word.title()}".upper()]
            yield self._node("Company", key, props)
            since = _day(incorporated)
            yield self._edge("INCORPORATED_IN", "Company", key, "Country", jur)
            yield self._edge("REGISTERED_AT", "Company", key, "Address", akey, since, {"valid_from": since})
            if p.persons:
                yield from self._officers(rng, c, kind, key, since)
            if kind == 2 and self._n_agents:
                agent = self._h(12, c // 8) % self._n_agents
                yield self._edge(
                    "REGISTRATION_AGENT_OF",
                    "Company",
                    self.company_key(agent),
                    "Company",
                    key,
                    since,
                    {"valid_from": since},
                )
            if c >= self._n_mgr and rng.random() < share:
                yield from self._sanctions(rng, "Company", key, name, f"C{c:07d}")

    def _officers(self, rng: Random, c: int, kind: int, key: str, since: str) -> Iterator[Record]:
        p = self.params
        directors: list[tuple[int, str]] = []
        if kind == 2:  # the shell cluster's nominee director
            directors.append((self._h(13, c // 8) % p.persons, "nominee director"))
        for _ in range(1 if kind == 2 else rng.choice((1, 1, 2, 2, 3))):
            q = rng.randrange(p.persons)
            if all(q != d for d, _ in directors):
                directors.append((q, rng.choice(_ROLES[:4])))
        for q, role in directors:
            yield self._edge(
                "DIRECTOR_OF",
                "Person",
                self.person_key(q),
                "Company",
                key,
                since,
                {"valid_from": since, "role": role},
            )
        holders: list[tuple[str, str]] = []
        for _ in range(rng.choice((1, 1, 2))):
            if c > 0 and rng.random() < 0.35:
                holder = ("Company", self.company_key(rng.randrange(c)))
            else:
                holder = ("Person", self.person_key(rng.randrange(p.persons)))
            if holder not in holders:
                holders.append(holder)
        known = rng.random() < 0.7
        for n, (label, hkey) in enumerate(holders):
            pct = (100.0 if len(holders) == 1 else (60.0, 40.0)[n]) if known else None
            yield self._edge(
                "SHAREHOLDER_OF", label, hkey, "Company", key, since, {"valid_from": since, "share_pct": pct}
            )
        if kind == 2 and c % 8 == 0 and rng.random() < 0.3:
            q = self._h(14, c // 8) % p.persons
            yield self._edge(
                "BENEFICIAL_OWNER_OF",
                "Person",
                self.person_key(q),
                "Company",
                key,
                since,
                {"valid_from": since, "share_pct": None if rng.random() < 0.5 else 75.0},
            )

    @staticmethod
    def _periods(rng: Random, start: int, n: int) -> list[tuple[str, str | None]]:
        """``n`` consecutive (valid_from, valid_to) periods from ``start`` to now, the last one open."""
        n = min(n, max(1, (_END - start) // 30))
        cuts = sorted(rng.sample(range(start + 1, _END), n - 1)) if n > 1 else []
        bounds = [start, *cuts]
        days = [_day(d) for d in bounds]
        return [(days[k], days[k + 1] if k + 1 < len(days) else None) for k in range(len(days))]

    def _temporal(
        self,
        rel: str,
        src_label: str,
        src: str,
        dst_label: str,
        dst: str,
        period: tuple[str, str | None],
        **props: object,
    ) -> EdgeRecord:
        start, end = period
        return self._edge(
            rel, src_label, src, dst_label, dst, start, {"valid_from": start, "valid_to": end, **props}
        )

    def _vessels(self, rng: Random) -> Iterator[Record]:
        p = self.params
        for i in range(p.vessels):
            yield from self._vessel(rng, i)

    def _vessel(self, rng: Random, i: int) -> Iterator[Record]:
        p = self.params
        key = self.vessel_key(i)
        build_year = 1990 + self._h(15, i) % 26
        start = max(_START, date(build_year, 1, 1).toordinal() + rng.randrange(300))
        # names: older ones are private to the vessel; the current one is rarely another hull's
        r = rng.random()
        n_names = 1 if r < 0.35 else 2 if r < 0.7 else 3 if r < 0.9 else 4
        name_ids = [p.vessels + 3 * i + k for k in range(n_names - 1)]
        current = i
        if i and self._h(16, i) % 10_000 < p.shared_name_share * 10_000:
            j = (self._h(16, i) >> 20) % i
            if not self._h(16, j) % 10_000 < p.shared_name_share * 10_000 or j == 0:
                current = j
        name_ids.append(current)
        names = [self.vessel_name(n) for n in name_ids]
        n_flags = self.n_flags(i)
        flags = [self.flag(i, f) for f in range(n_flags)]
        mmsis = [self.mmsi(i, f) for f in range(n_flags)]
        has_call_sign = self._h(17, i) % 10 < 7
        vtype = _VESSEL_TYPES[0][0]
        roll = rng.randrange(100)
        for vt, w in _VESSEL_TYPES:
            if roll < w:
                vtype = vt
                break
            roll -= w
        dwt = round(rng.uniform(3_000, 320_000), 0)
        props: dict[str, object] = {
            "name": names[-1],
            "vessel_type": vtype,
            "build_year": build_year,
            "deadweight": dwt,
            "gross_tonnage": round(dwt * rng.uniform(0.5, 0.65), 0),
            "mmsi": mmsis[-1][0],
            "flag": flags[-1],
        }
        if self.has_imo(i):
            props["imo"] = self.imo(i)
        elif rng.random() < 0.3:  # claims an IMO number that fails the check digit
            bad = self.imo(i)[:6] + str((int(self.imo(i)[6]) + 1 + rng.randrange(9)) % 10)
            props["claimed_imos"] = [bad]
        if has_call_sign:
            props["call_sign"] = self.call_sign(i, n_flags - 1)
        yield self._node("Vessel", key, props)
        for n, (name, period) in enumerate(zip(names, self._periods(rng, start, n_names), strict=True)):
            nkey = name_key(name)
            if n < n_names - 1 or current == i:
                yield self._node("VesselName", nkey, {"name": name})
            yield self._temporal("NAMED", "Vessel", key, "VesselName", nkey, period)
        flag_periods = self._periods(rng, start, n_flags)
        for f, period in enumerate(flag_periods):
            yield self._temporal("FLAGGED", "Vessel", key, "Country", flags[f], period)
            mmsi, mid_country = mmsis[f]
            if self._mmsi_first_use(i, f):
                yield self._node("Mmsi", mmsi, {"mmsi": mmsi, "mid": mmsi[:3], "mid_country": mid_country})
            yield self._temporal("HAS_MMSI", "Vessel", key, "Mmsi", mmsi, period)
            if has_call_sign:
                cs = self.call_sign(i, f)
                yield self._node("CallSign", cs, {"call_sign": cs})
                yield self._temporal("HAS_CALL_SIGN", "Vessel", key, "CallSign", cs, period)
        if p.companies:
            yield from self._vessel_companies(rng, i, key, start)
        if rng.random() < p.sanctioned_share:
            yield from self._sanctions(rng, "Vessel", key, names[-1], f"V{i:07d}")
        yield from self._events(rng, i, key)

    def _vessel_companies(self, rng: Random, i: int, key: str, start: int) -> Iterator[Record]:
        p = self.params
        r = rng.random()
        for period in self._periods(rng, start, 1 if r < 0.4 else 2 if r < 0.8 else 3):
            if p.persons and rng.random() < 0.01:
                owner = ("Person", self.person_key(rng.randrange(p.persons)))
            else:
                owner = ("Company", self.company_key(rng.randrange(p.companies)))
            yield self._temporal("REGISTERED_OWNER_OF", *owner, "Vessel", key, period)
        managers = self._n_mgr
        ship_manager = min(rng.randrange(managers), rng.randrange(managers))  # a few large managers
        for rel, chance, same in (
            ("SHIP_MANAGER_OF", 0.9, None),
            ("ISM_MANAGER_OF", 0.75, ship_manager),
            ("OPERATOR_OF", 0.5, None),
            ("COMMERCIAL_MANAGER_OF", 0.3, None),
        ):
            if rng.random() >= chance:
                continue
            n = 1 if rng.random() < 0.6 else 2
            for k, period in enumerate(self._periods(rng, start, n)):
                if k == n - 1 and rel == "SHIP_MANAGER_OF":
                    c = ship_manager
                elif same is not None and k == n - 1 and rng.random() < 0.7:
                    c = same
                else:
                    c = rng.randrange(managers)
                yield self._temporal(rel, "Company", self.company_key(c), "Vessel", key, period)
        if p.persons and rng.random() < 0.03:
            q = rng.randrange(p.persons)
            (period,) = self._periods(rng, start, 1)
            yield self._temporal(
                "BENEFICIAL_OWNER_OF",
                "Person",
                self.person_key(q),
                "Vessel",
                key,
                period,
                share_pct=None if rng.random() < 0.4 else float(rng.choice((25, 50, 51, 100))),
            )

    def _events(self, rng: Random, i: int, key: str) -> Iterator[Record]:
        p = self.params
        count = ((i + 1) * p.events) // p.vessels - (i * p.events) // p.vessels
        for k in range(count):
            r = rng.random()
            day = _EVENT_START + rng.randrange(_END - _EVENT_START)
            hour = rng.randrange(24)
            start = f"{_day(day)}T{hour:02d}:00:00Z"
            if r < 0.6 or (r >= 0.85 and i == 0):
                port = (
                    rng.randrange(min(p.ports, len(REAL_PORTS)))
                    if rng.random() < 0.2
                    else rng.randrange(p.ports)
                )
                pkey = self.port(port)[0]
                stay = rng.randrange(12, 24 * 6)
                draught_in = round(rng.uniform(6.0, 16.0), 1)
                loading = rng.random() < 0.5
                draught_out = round(draught_in + (1 if loading else -1) * rng.uniform(0.0, 5.0), 1)
                ekey = f"pc-{i:07d}-{k:03d}"
                yield self._node(
                    "PortCall",
                    ekey,
                    {
                        "arrival": start,
                        "departure": f"{_day(day + (hour + stay) // 24)}T{(hour + stay) % 24:02d}:00:00Z",
                        "draught_in": draught_in,
                        "draught_out": max(3.0, draught_out),
                        "activity": "loading" if loading else "discharging",
                        "detector": SOURCE,
                    },
                )
                yield self._edge("MADE_CALL", "Vessel", key, "PortCall", ekey)
                yield self._edge("AT_PORT", "PortCall", ekey, "Port", pkey)
            elif r < 0.85:
                hours = round(rng.uniform(12.0, 240.0), 1)
                lat, lon = rng.choice(_STS_AREAS)
                distance = rng.uniform(0.0, 600.0)
                ekey = f"gap-{i:07d}-{k:03d}"
                end = day + (hour + int(hours)) // 24
                yield self._node(
                    "AisGap",
                    ekey,
                    {
                        "start": start,
                        "end": f"{_day(end)}T{(hour + int(hours)) % 24:02d}:00:00Z",
                        "start_lat": round(lat + rng.uniform(-2, 2), 4),
                        "start_lon": round(lon + rng.uniform(-2, 2), 4),
                        "end_lat": round(lat + rng.uniform(-2, 2), 4),
                        "end_lon": round(lon + rng.uniform(-2, 2), 4),
                        "hours": hours,
                        "implied_speed_knots": round(distance / hours, 2),
                        "suspected_disabling": rng.random() < 0.4,
                        "detector": SOURCE,
                    },
                )
                yield self._edge("WENT_DARK", "Vessel", key, "AisGap", ekey)
            else:
                j = rng.randrange(i)
                lat, lon = rng.choice(_STS_AREAS)
                hours = rng.randrange(4, 48)
                ekey = f"sts-{i:07d}-{k:03d}"
                yield self._node(
                    "StsTransfer",
                    ekey,
                    {
                        "start": start,
                        "end": f"{_day(day + (hour + hours) // 24)}T{(hour + hours) % 24:02d}:00:00Z",
                        "lat": round(lat + rng.uniform(-0.5, 0.5), 4),
                        "lon": round(lon + rng.uniform(-0.5, 0.5), 4),
                        "evidence": [f"ais-track:{i}:{k}", f"sat-image:{self._n}"],
                        "confidence": round(rng.uniform(0.5, 0.99), 2),
                        "detector": SOURCE,
                        "cargo": rng.choice(_CARGOES),
                    },
                )
                before = round(rng.uniform(8.0, 16.0), 1)
                moved = round(rng.uniform(0.5, 4.0), 1)
                other_before = round(rng.uniform(5.0, 10.0), 1)
                for vkey, role, d0, d1 in (
                    (key, "giver", before, round(before - moved, 1)),
                    (self.vessel_key(j), "receiver", other_before, round(other_before + moved, 1)),
                ):
                    yield self._edge(
                        "PARTICIPATED_IN",
                        "Vessel",
                        vkey,
                        "StsTransfer",
                        ekey,
                        props={"role": role, "draught_before": d0, "draught_after": d1},
                    )


def generate_world(
    seed: int,
    vessels: int,
    companies: int | None = None,
    persons: int | None = None,
    events: int | None = None,
    *,
    ports: int | None = None,
    **shares: float,
) -> Iterator[Record]:
    """Stream the records of a synthetic world, deterministic for ``seed`` and the parameters.

    Defaults per vessel: 0.6 companies, 0.5 persons, 4 events (60 % port calls, 25 % AIS gaps, 15 %
    ship-to-ship transfers), one port per 50 vessels (20 to 2,000). ``shares`` overrides the rates in
    :class:`WorldParams` (``sanctioned_share``, ``no_imo_share``, ``mid_mismatch_share``,
    ``shared_name_share``). Use :class:`World` directly to read the counts after the pass.
    """
    return iter(World(seed, vessels, companies, persons, events, ports=ports, **shares))


def world_size(
    seed: int,
    vessels: int,
    companies: int | None = None,
    persons: int | None = None,
    events: int | None = None,
    *,
    ports: int | None = None,
    sample_vessels: int = 2_000,
    **shares: float,
) -> Counts:
    """Node and relationship counts of a world: exact up to ``sample_vessels`` vessels, else estimated.

    The estimate generates a world scaled down to ``sample_vessels`` (same ports and rates) and scales
    everything but countries and ports up linearly; it is typically within 1 % of the exact figure.
    """
    full = WorldParams.resolve(seed, vessels, companies, persons, events, ports, **shares)
    if vessels <= sample_vessels:
        world = World(seed, vessels, companies, persons, events, ports=ports, **shares)
        for _ in world:
            pass
        return world.counts()
    factor = vessels / sample_vessels
    small = replace(
        full,
        vessels=sample_vessels,
        companies=round(full.companies / factor),
        persons=round(full.persons / factor),
        events=round(full.events / factor),
    )
    world = World(
        small.seed,
        small.vessels,
        small.companies,
        small.persons,
        small.events,
        ports=small.ports,
        sanctioned_share=small.sanctioned_share,
        no_imo_share=small.no_imo_share,
        mid_mismatch_share=small.mid_mismatch_share,
        shared_name_share=small.shared_name_share,
    )
    for _ in world:
        pass
    counts, fixed = world.counts(), world.fixed_counts()

    def scale(got: dict[str, int], keep: dict[str, int]) -> dict[str, int]:
        return {k: keep.get(k, 0) + round((n - keep.get(k, 0)) * factor) for k, n in got.items()}

    return Counts(scale(counts.nodes, fixed.nodes), scale(counts.relationships, fixed.relationships))


def write_world(
    store: Store,
    seed: int,
    vessels: int,
    companies: int | None = None,
    persons: int | None = None,
    events: int | None = None,
    *,
    ports: int | None = None,
    batch_size: int | None = None,
    atomic: bool = True,
    progress: ProgressFn | None = None,
    **shares: float,
) -> WorldLoad:
    """Generate a world straight into ``store`` with one ``store.write`` call; return both sides' figures."""
    world = World(seed, vessels, companies, persons, events, ports=ports, **shares)
    stats = store.write(world, batch_size=batch_size, atomic=atomic, progress=progress)
    return WorldLoad(stats, world.counts())
