"""Entity resolution: normalisation, blocking, scoring, judgements, and the resolver on both stores.

Crafted data uses fictional names, except the pair "KOREA SAMMA SHIPPING CO" (UN list) and
"KOREA SAMMA SHPG CO" (OFAC SDN), real published list names used as the motivating example.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from graph.judgements import Judgement, JudgementError, Judgements, NodeRef, editing
from graph.records import EdgeRecord, NodeRecord, Provenance
from graph.resolution import (
    DESCRIPTORS,
    Entity,
    FormTable,
    MatchConfig,
    NameIndex,
    company_form,
    find_candidates,
    match_names,
    name_similarity,
    person_form,
    plan_links,
    token_agreement,
)
from graph.resolution.entities import entity_from_node
from graph.store import Store
from shadowfleet.cli import common_options
from shadowfleet.commands import resolve as cmd
from shadowfleet.commands.resolve import all_nodes, apply_judgement, pending_reviews, resolve

UN_NAME, OFAC_NAME = "KOREA SAMMA SHIPPING CO", "KOREA SAMMA SHPG CO"
PROV = Provenance("crafted", "test", "2024-01-01T00:00:00Z")


def company(key: str, name: str, **props: object) -> NodeRecord:
    return NodeRecord("Company", key, {"name": name, **props}, PROV)


def links(store: Store, label: str = "Company") -> dict[tuple[str, str], dict]:
    keys = [n.key for n in all_nodes(store, label)]
    return {
        (e.src, e.dst): {**e.props, "provenance": sorted(e.provenance)}
        for e in store.edges(label, keys, ["POSSIBLY_SAME_AS"], "out")
    }


# ---- normalisation ------------------------------------------------------------------------------


def test_korea_samma_spellings_normalise_alike() -> None:
    un, ofac = company_form(UN_NAME), company_form(OFAC_NAME)
    assert un is not None and ofac is not None
    assert un.core == ofac.core == "korea samma shipping"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Vantor Shipping Co., Ltd.", "VANTOR SHPG CO LTD"),
        ("Vantor Intl Mgmt Corp", "Vantor International Management Corporation"),
        ("Quelmar Trdg Pte. Ltd.", "QUELMAR TRADING PTE LTD"),
        ("Ostrava Hldgs S.A.", "OSTRAVA HOLDINGS S A"),
        ("Brindle & Sons Limited Liability Company", "BRINDLE AND SONS LLC"),
        ("ООО Ромашка Морская", "OOO Romashka Morskaya"),
    ],
)
def test_legal_forms_and_abbreviations(a: str, b: str) -> None:
    fa, fb = company_form(a), company_form(b)
    assert fa is not None and fb is not None
    assert fa.core == fb.core
    assert fa.legal_forms == fb.legal_forms


def test_legal_form_only_name_is_kept() -> None:
    form = company_form("Limited")
    assert form is not None and form.core == "limited"
    assert company_form("  ...  ") is None


def test_person_form_drops_titles_and_ignores_order() -> None:
    a, b = person_form("Dr. Ivor Quillfeather"), person_form("QUILLFEATHER, Ivor")
    assert a is not None and b is not None
    assert a.sorted_core == b.sorted_core == "ivor quillfeather"


# ---- blocking -----------------------------------------------------------------------------------


def test_index_finds_one_typo_in_a_rare_token() -> None:
    names = ["zentrova marine", "kallisto tankers", "orbanex shipping"]
    index = NameIndex(names)
    pairs = [
        (int(q), int(r))
        for qs, rs in index.candidates(["marine zentorva", "marine zentrava"])
        for q, r in zip(qs, rs, strict=True)
    ]
    assert (1, 0) in pairs  # "zentrava" is one substitution from "zentrova"
    assert all(r == 0 for _, r in pairs)


def test_index_ignores_keys_shared_by_too_many_names() -> None:
    names = [f"shipping w{i:03d}x" for i in range(100)]
    index = NameIndex(names, bucket_cap=60)
    assert index.dropped_keys > 0
    found = [len(r) for _, r in index.candidates(["shipping"])]
    assert found == []  # "shipping" alone is in 100 names: no evidence


def test_index_caps_candidates_per_query() -> None:
    names = [f"alder b{i:02d}" for i in range(50)]
    index = NameIndex(names, bucket_cap=60)
    (q, r), *_ = list(index.candidates(["alder"], max_candidates=7))
    assert len(r) == 7 and set(q.tolist()) == {0}


# ---- scoring ------------------------------------------------------------------------------------


def entity(key: str, name: str, country: str | None = None, **kw: object) -> Entity:
    return Entity("Company", key, (name,), country, **kw)  # type: ignore[arg-type]


def test_korea_samma_pair_scores_above_auto_threshold() -> None:
    found = find_candidates([entity("co:un", UN_NAME, "kp"), entity("co:ofac", OFAC_NAME)])
    assert len(found) == 1
    assert found[0].score >= MatchConfig().auto_threshold


def test_unrelated_companies_are_not_candidates() -> None:
    found = find_candidates(
        [
            entity("co:1", "Harbourline Tankers Ltd"),
            entity("co:2", "Meridian Bulk Carriers SA"),
            entity("co:3", "Harbourview Logistics Ltd"),
        ]
    )
    assert found == []


def test_jurisdiction_mismatch_sends_identical_names_to_review() -> None:
    config = MatchConfig()
    found = find_candidates(
        [entity("co:a", "Pelliway Shipping Ltd", "pa"), entity("co:b", "PELLIWAY SHPG LTD", "MH")]
    )
    assert len(found) == 1
    cand = found[0]
    assert cand.name_score == 1.0
    assert cand.penalties == {"jurisdiction": config.jurisdiction_penalty}
    assert config.review_threshold <= cand.score < config.auto_threshold
    # the same names with one jurisdiction unknown (or equal, spelt differently) are not penalised
    same = find_candidates(
        [entity("co:a", "Pelliway Shipping Ltd", "Panama"), entity("co:b", "Pelliway Shpg Ltd", "PA")]
    )
    assert same[0].score == 1.0 and not same[0].penalties


def test_jurisdiction_mismatch_drops_near_names() -> None:
    # one typo (0.97) plus a jurisdiction conflict falls below the review threshold
    found = find_candidates(
        [entity("co:a", "Pelliway Shipping Ltd", "pa"), entity("co:b", "Pelliwey Shipping Ltd", "mh")]
    )
    assert found == []


def test_conflicting_legal_forms_and_identifiers_are_penalised() -> None:
    found = find_candidates([entity("co:a", "Norvane Marine Ltd"), entity("co:b", "Norvane Marine S.A.")])
    assert found[0].penalties == {"legal_form": 0.10} and found[0].score == 0.90
    # Specific forms, not generic classes: LIMITED and GMBH differ (both "llc" to rigour's generic
    # table); LTD and LIMITED are one form.
    found = find_candidates([entity("co:a", "Norvane Marine Limited"), entity("co:b", "Norvane Marine GmbH")])
    assert found[0].penalties == {"legal_form": 0.10}
    found = find_candidates([entity("co:a", "Norvane Marine Limited"), entity("co:b", "NORVANE MARINE LTD")])
    assert found[0].penalties == {} and found[0].score == 1.0
    found = find_candidates(
        [
            entity("co:a", "Norvane Marine Ltd", identifiers={"lei": "A1"}),
            entity("co:b", "Norvane Marine Ltd", identifiers={"lei": "B2"}),
        ]
    )
    assert found[0].penalties == {"identifier": 0.10}


def test_single_word_names_are_never_auto_linked() -> None:
    found = find_candidates([entity("co:a", "Zelkova Ltd"), entity("co:b", "ZELKOVA LIMITED")])
    plan = plan_links(found, Judgements(), [], {c.ref for c in (found[0].left, found[0].right)})
    assert found[0].score == 1.0 and plan.links[0].method == "review"


def test_persons_with_different_birth_dates_are_not_candidates() -> None:
    a = Entity("Person", "p:1", ("Ivor Quillfeather",), birth_date="1961-02-03")
    b = Entity("Person", "p:2", ("QUILLFEATHER, Ivor",), birth_date="1970-01-01")
    c = Entity("Person", "p:3", ("Quillfeather Ivor",), birth_date="1961")
    found = find_candidates([a, b, c])
    assert [(x.left.key, x.right.key) for x in found] == [("p:1", "p:3")]


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        MatchConfig(auto_threshold=0.8, review_threshold=0.9)


# ---- judgements file ----------------------------------------------------------------------------


def test_judgements_round_trip_and_replace(tmp_path: Path) -> None:
    path = tmp_path / "judgements.yaml"
    a, b, c = NodeRef("Company", "co:a"), NodeRef("Company", "imoco:5145892"), NodeRef("Person", "p:x")
    with editing(path) as jm:
        jm.decide(a, b, "different", by="ana", note="first look")
        jm.decide(a, c, "same", by="ana")
    with editing(path) as jm:
        jm.decide(b, a, "same", by="ben", note="confirmed by IMO number")  # replaces, either order
    loaded = Judgements.load(path)
    assert len(loaded) == 2
    first = loaded.get(a, b)
    assert first is not None and first.decision == "same" and first.by == "ben"
    assert [j.pair for j in loaded] == [frozenset((a, b)), frozenset((a, c))]  # file order kept
    text = path.read_text()
    assert "decision: same" in text and "imoco:5145892" in text


def test_missing_judgements_file_is_empty(tmp_path: Path) -> None:
    assert len(Judgements.load(tmp_path / "none.yaml")) == 0


@pytest.mark.parametrize(
    "body",
    [
        "judgements: {}",
        "judgements:\n  - {left: 'Company:a', right: 'Company:b', decision: maybe}",
        "judgements:\n  - {left: 'Company:a', right: 'Company:a', decision: same}",
        "judgements:\n  - {left: 'nocolon', right: 'Company:b', decision: same}",
        "version: 9\njudgements: []",
        "judgements: [",
    ],
)
def test_malformed_judgements_are_refused(tmp_path: Path, body: str) -> None:
    path = tmp_path / "j.yaml"
    path.write_text(body)
    with pytest.raises(JudgementError):
        Judgements.load(path)


def test_node_ref_parses_keys_with_colons() -> None:
    assert NodeRef.parse("Company:reg:PA:12345") == NodeRef("Company", "reg:PA:12345")
    assert str(NodeRef("Company", "imoco:5145892")) == "Company:imoco:5145892"


# ---- the resolver on both stores ----------------------------------------------------------------


def seed(store: Store) -> None:
    store.write(
        [
            company("co:un-samma", UN_NAME, jurisdiction="KP"),
            company("co:ofac-samma", OFAC_NAME),
            company("co:orvik-pa", "Orvik Tankers Ltd", jurisdiction="PA"),
            company("co:orvik-mh", "ORVIK TANKERS LIMITED", jurisdiction="MH"),
            company("co:lumen", "Lumenfeld Bulk Carriers SA", jurisdiction="LR"),
            company("co:tessaly", "Tessaly Maritime Holdings Ltd", jurisdiction="CY"),
        ]
    )


def test_resolve_links_korea_samma_and_nothing_unrelated(store: Store) -> None:
    seed(store)
    report = resolve(store)
    found = links(store)
    pair = ("co:ofac-samma", "co:un-samma")
    assert set(found) == {pair, ("co:orvik-mh", "co:orvik-pa")}
    edge = found[pair]
    assert edge["method"] == "auto" and edge["score"] >= 0.98
    params = json.loads(edge["parameters"])
    assert params["auto_threshold"] == 0.98 and params["left_name"] == OFAC_NAME
    prov = [Provenance.decode(p) for p in edge["provenance"]]
    assert [(p.source, p.record, p.retrieved_at) for p in prov] == [
        ("resolver", "Company:co:ofac-samma|Company:co:un-samma", PROV.retrieved_at)
    ]
    # jurisdiction mismatch: a candidate for review, never an automatic link
    assert found[("co:orvik-mh", "co:orvik-pa")]["method"] == "review"
    assert report.summary()["links_auto"] == 1 and report.summary()["links_review"] == 1


def test_resolve_twice_adds_nothing(store: Store) -> None:
    seed(store)
    resolve(store)
    counts, before = store.counts(), links(store)
    report = resolve(store)
    assert store.counts() == counts
    assert links(store) == before
    assert report.written.edges_created == 0


def test_judgements_confirm_and_reject(store: Store) -> None:
    seed(store)
    resolve(store)
    jm = Judgements()
    orvik_pa, orvik_mh = NodeRef("Company", "co:orvik-pa"), NodeRef("Company", "co:orvik-mh")
    lumen, tessaly = NodeRef("Company", "co:lumen"), NodeRef("Company", "co:tessaly")
    jm.decide(orvik_pa, orvik_mh, "different", by="ana", at="2024-02-01T00:00:00Z")
    jm.decide(tessaly, lumen, "same", by="ana", at="2024-02-02T00:00:00Z", note="same registered agent")
    report = resolve(store, judgements=jm)
    found = links(store)
    rejected = found[("co:orvik-mh", "co:orvik-pa")]
    assert rejected["method"] == "rejected"  # the earlier review link is neutralised, not deleted
    confirmed = found[("co:lumen", "co:tessaly")]
    assert confirmed["method"] == "judgement" and confirmed["score"] == 1.0
    assert json.loads(confirmed["parameters"])["note"] == "same registered agent"
    assert report.summary()["links_rejected"] == 1 and report.summary()["links_judgement"] == 1
    # the rejected pair is never proposed again, and nothing changes on a rerun
    assert pending_reviews(store, jm) == []
    before = links(store)
    resolve(store, judgements=jm)
    assert links(store) == before


def test_rejected_pair_without_a_link_writes_nothing(store: Store) -> None:
    seed(store)
    jm = Judgements(
        [
            Judgement(
                NodeRef("Company", "co:orvik-pa"), NodeRef("Company", "co:orvik-mh"), "different", "ana", "t"
            )
        ]
    )
    resolve(store, judgements=jm)
    assert ("co:orvik-mh", "co:orvik-pa") not in links(store)


def test_judgement_blocks_an_auto_link_that_would_join_them(store: Store) -> None:
    store.write(
        [
            company("co:a", "Kestrow Shipping Ltd"),
            company("co:b", "KESTROW SHPG LTD"),
            company("co:c", "Kestrow Shipping Limited"),
        ]
    )
    jm = Judgements()
    jm.decide(NodeRef("Company", "co:a"), NodeRef("Company", "co:b"), "different", at="t")
    jm.decide(NodeRef("Company", "co:b"), NodeRef("Company", "co:c"), "same", at="t")
    report = resolve(store, judgements=jm)
    found = links(store)
    assert ("co:a", "co:b") not in found
    assert found[("co:b", "co:c")]["method"] == "judgement"
    # a~c would join a to b through c: downgraded to review
    assert found[("co:a", "co:c")]["method"] == "review"
    assert report.summary()["auto_downgraded_by_judgement"] == 1


def test_links_no_longer_proposed_are_retired(store: Store) -> None:
    seed(store)
    resolve(store)
    resolve(store, config=MatchConfig(auto_threshold=0.99, review_threshold=0.95))
    found = links(store)
    assert found[("co:orvik-mh", "co:orvik-pa")]["method"] == "retired"
    assert found[("co:ofac-samma", "co:un-samma")]["method"] == "auto"


def test_apply_judgement_updates_the_graph_at_once(store: Store) -> None:
    seed(store)
    resolve(store)
    left, right = NodeRef("Company", "co:orvik-mh"), NodeRef("Company", "co:orvik-pa")
    apply_judgement(store, Judgement(left, right, "same", "ana", "2024-03-01T00:00:00Z"))
    # One company now: the other key survives as a source key (both are name keys: key order decides).
    merged = store.get_nodes("Company", ["co:orvik-mh", "co:orvik-pa"])
    assert sorted(merged) == ["co:orvik-mh"]
    assert merged["co:orvik-mh"].props["source_keys"] == ["co:orvik-pa"]
    apply_judgement(store, Judgement(left, right, "different", "ana", "2024-03-02T00:00:00Z"))
    assert sorted(store.get_nodes("Company", ["co:orvik-mh", "co:orvik-pa"])) == [
        "co:orvik-mh",
        "co:orvik-pa",
    ]
    assert links(store)[("co:orvik-mh", "co:orvik-pa")]["method"] == "rejected"


def test_persons_are_resolved_separately(store: Store) -> None:
    store.write(
        [
            NodeRecord("Person", "p:1", {"name": "Ivor Quillfeather", "nationality": "GB"}, PROV),
            NodeRecord("Person", "p:2", {"name": "QUILLFEATHER, Ivor", "aliases": ["I. Quillfeather"]}, PROV),
            NodeRecord("Company", "co:q", {"name": "Quillfeather Ivor Ltd"}, PROV),
        ]
    )
    resolve(store)
    assert links(store, "Person")[("p:1", "p:2")]["method"] == "auto"
    assert links(store, "Company") == {}


# ---- command line -------------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cmd.register(sub, common_options())
    args = parser.parse_args(["resolve", *argv])
    args.store = getattr(args, "store", None)
    args.format = getattr(args, "format", "table")
    return args


def test_cli_run_review_decide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHADOWFLEET_HOME", str(tmp_path))
    monkeypatch.delenv("SHADOWFLEET_STORE", raising=False)
    from graph.memory_store import MemoryStore

    seed(MemoryStore(tmp_path))
    assert cmd.run(parse("run", "--format", "json")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["links_auto"] == 1 and summary["links_review"] == 1
    assert cmd.run(parse("review", "--format", "json")) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["left"], r["right"]) for r in rows] == [("Company:co:orvik-mh", "Company:co:orvik-pa")]
    assert (
        cmd.run(
            parse(
                "decide",
                "co:orvik-mh",
                "Company:co:orvik-pa",
                "different",
                "--note",
                "two registries",
                "--by",
                "ana",
                "--format",
                "json",
            )
        )
        == 0
    )
    decided = json.loads(capsys.readouterr().out)
    assert decided["relationships_written"] == 1
    stored = Judgements.load(tmp_path / "judgements.yaml")
    only = next(iter(stored))
    assert (only.decision, only.by, only.note) == ("different", "ana", "two registries")
    assert cmd.run(parse("review", "--format", "csv")) == 0
    assert capsys.readouterr().out.strip() == ",".join(cmd.REVIEW_COLUMNS)
    with pytest.raises(ValueError, match="no Company"):
        cmd.run(parse("decide", "co:nope", "co:lumen", "same"))


def test_cli_refuses_crossed_thresholds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHADOWFLEET_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="review-threshold"):
        cmd.run(parse("run", "--threshold", "0.9", "--review-threshold", "0.95"))


# ---- scorer and blocking details ----------------------------------------------------------------


def test_token_agreement_weighs_words_not_letters() -> None:
    assert token_agreement("sea vandor", "ocean vandor") == pytest.approx(0.75)
    assert token_agreement("korea samma", "korea samma shipping", DESCRIPTORS) == 1.0
    assert token_agreement("group vandor", "bulk vandor", DESCRIPTORS) < 0.8
    assert token_agreement("john smith", "a john smith") == 1.0  # initials are not counted


def test_shared_descriptor_does_not_carry_different_names() -> None:
    a, b = company_form("Tandor Petroleum JSC"), company_form("THALGEX PETROLEUM CO LTD")
    assert a is not None and b is not None
    assert name_similarity(a, b, DESCRIPTORS) < MatchConfig().review_threshold
    c = company_form("KOREA SAMMA")
    d = company_form(UN_NAME)
    assert c is not None and d is not None
    assert name_similarity(c, d, DESCRIPTORS) >= MatchConfig().review_threshold  # descriptor missing


def test_index_reaches_frequent_tokens_through_combinations() -> None:
    names = [f"vandor w{i:03d}x" for i in range(100)] + ["marine vandor"]
    index = NameIndex(names, DESCRIPTORS, bucket_cap=60)
    assert "vandor" in index.frequent
    for query in ("marine vandor", "marine vandorr", "marne vandor"):
        found = {int(r) for _, rs in index.candidates([query]) for r in rs}
        assert 100 in found, query


def test_index_finds_two_edits_in_long_query_tokens() -> None:
    index = NameIndex(["kastellan", "orbanex"])
    found = {int(r) for _, rs in index.candidates(["kastelliano"]) for r in rs}
    assert found == {0}


def test_match_names_is_the_same_in_parallel() -> None:
    forms = [company_form(f"Zorvan{i % 37} Shipping {'Ltd' if i % 2 else 'SA'}") for i in range(300)]
    table = FormTable([f for f in forms if f is not None], DESCRIPTORS)
    index = NameIndex(table.blocking, DESCRIPTORS)
    serial = match_names(index, table, table, MatchConfig(), workers=1, chunk=50)
    forked = match_names(index, table, table, MatchConfig(), workers=2, chunk=50)
    assert len(serial.scores) > 0
    assert serial.query_rows.tolist() == forked.query_rows.tolist()
    assert serial.index_rows.tolist() == forked.index_rows.tolist()
    assert serial.scores.tolist() == forked.scores.tolist()


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        # A number names another entity: no candidate at all (issue 11's false auto-merges).
        ("RIM GROUP INVESTMENTS", "RIM GROUP INVESTMENTS II CORP", None),
        ("KISMET TELECOM INFRASTRUCTURE", "KISMET TELECOM INFRASTRUCTURE 2", None),
        # The same number on both sides, and legal forms spelt two ways: the same name.
        ("VICTORIA 2 SHIPPING LTD", "VICTORIA 2 SHIPPING LIMITED", 1.0),
        # A trailing acronym is the same entity's name with its acronym appended.
        (
            "KOREA MINING DEVELOPMENT TRADING CORPORATION (KOMID)",
            "KOREA MINING DEVELOPMENT TRADING CORPORATION",
            1.0,
        ),
    ],
)
def test_numbers_and_trailing_acronyms(left: str, right: str, expected: float | None) -> None:
    a = entity_from_node("Company", "co:a", {"name": left})
    b = entity_from_node("Company", "co:b", {"name": right})
    found = find_candidates([a, b], MatchConfig())
    assert (found[0].score if found else None) == expected


def test_branches_with_addresses_in_different_countries_are_not_automatic(store: Store) -> None:
    # Two list entries of one name, registered in two countries (as the UN and OFAC list branches of
    # one foundation): a reviewer's question, not an automatic link. The same name in one country is.
    records = []
    for key, country in (("co:b1", "BA"), ("co:b2", "SO"), ("co:b3", "SO")):
        records += [
            NodeRecord("Company", key, {"name": "Orvale Relief Foundation"}, PROV),
            NodeRecord("Address", f"addr:{key}", {"full": f"{key} street", "country": country}, PROV),
            EdgeRecord("REGISTERED_AT", "Company", key, "Address", f"addr:{key}", "", {}, PROV),
        ]
    store.write(records)
    resolve(store)
    found = links(store)
    assert found[("co:b1", "co:b2")]["method"] == "review"
    assert found[("co:b2", "co:b3")]["method"] == "auto"
