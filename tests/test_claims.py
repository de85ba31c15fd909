"""The claims register: every claim placed, every piece of evidence real, every source used."""

import datetime as dt

import pandas as pd
import pytest

from report_helpers import catalogue, claims
from report_helpers.pipeline.sections import discover

REGISTER = catalogue.load_table("claims")


def test_every_claim_names_an_existing_section():
    slugs = {s.slug for s in discover()}
    assert set(REGISTER["section"]) <= slugs
    article_sections = {s.slug for s in discover() if s.order < 90}
    assert set(REGISTER["section"]) == article_sections  # every section has claims


def test_facts_have_verdicts_and_judgements_do_not():
    facts = REGISTER[REGISTER["kind"] == "fact"]
    judgements = REGISTER[REGISTER["kind"] == "judgement"]
    assert facts["verdict"].notna().all()
    assert judgements["verdict"].isna().all()
    assert len(REGISTER) >= 40


@pytest.mark.parametrize("claim", list(REGISTER.itertuples()), ids=lambda c: c.claim_id)
def test_evidence_exists(claim):
    refs = claims.parse_evidence(claim.evidence)
    if claim.kind == "fact" and claim.verdict != claims.NOT_VERIFIABLE:
        assert refs, f"{claim.claim_id} has a verdict but no evidence"
    rows = claims.resolve(refs)
    assert [ref for ref, row in rows.items() if row is None] == []


def test_every_source_is_cited_by_a_row_or_a_claim():
    cited = set()
    for res in catalogue.read_catalogue()["resources"]:
        if res["name"] not in ("sources", "claims"):
            table = catalogue.load_table(res["name"])
            cited |= set(table["source_id"]) | set(table["public_source_id"].dropna())
    for claim in REGISTER.itertuples():
        cited |= {ref.key for ref in claims.parse_evidence(claim.evidence) if ref.table == "sources"}
    assert set(catalogue.sources()) - cited == set()


def test_the_article_errors_the_register_must_catch():
    text = " ".join(REGISTER["claim"].str.lower()) + " " + " ".join(REGISTER["note"].fillna("").str.lower())
    for topic in ("six-week", "87", "2002", "base"):
        assert topic in text, topic
    csto = REGISTER[REGISTER["claim"].str.contains("2002")]
    assert set(csto["verdict"]) <= {"partly supported", "contradicted"}


def test_register_as_of_a_date_does_not_reach_forward():
    early = claims.register(dt.date(2024, 6, 30))
    late = claims.register(dt.date(2026, 11, 27))
    changed = early[early["shown_verdict"].astype(str).str.endswith("as of 2024-06-30")]
    assert len(changed) > 0
    for claim_id in changed["claim_id"]:
        later = late[late["claim_id"] == claim_id].iloc[0]
        assert not str(later["shown_verdict"]).endswith("2024-06-30")
        assert early[early["claim_id"] == claim_id].iloc[0]["shown_note"] == claims.NOTE_WITHHELD


def test_malformed_evidence_is_named():
    with pytest.raises(catalogue.DataError, match="table:key"):
        claims.parse_evidence("events-without-colon")


# A verdict must follow from its evidence and agree with the register's other notes (README, claims
# register). What a test can check: the stated strength of the evidence, its confidence, and notes
# that deny what their verdict asserts.

STRENGTH = {"supported": "full", "contradicted": "full", "partly supported": "partial",
            claims.NOT_VERIFIABLE: "none"}
# Phrases by which a note says the evidence does not establish the claim.
DENIALS = [r"\b(source|sources|data|evidence|tables?)\b[^.;]{0,40}\b(do|does|did) not (say|show|establish|state|record|confirm)",
           r"\b(it|they) (do|does) not establish\b", r"\bconfirm neither\b", r"\bcannot be verified\b",
           r"\bnot verifiable\b", r"\bunverified\b", r"\bnothing (on|about)\b"]


def test_every_fact_states_how_much_its_evidence_establishes():
    for claim in REGISTER.itertuples():
        if claim.kind == "fact":
            assert claim.evidence_strength == STRENGTH[claim.verdict], claim.claim_id
        else:
            assert pd.isna(claim.evidence_strength), claim.claim_id


def test_a_full_verdict_rests_on_high_confidence_evidence():
    """Low rows (secondary, derived, disputed) can support part of a claim, never all of it alone."""
    tables: dict = {}
    for claim in REGISTER[REGISTER["evidence_strength"] == "full"].itertuples():
        rows = claims.resolve(claims.parse_evidence(claim.evidence), None, tables)
        rated = [row["confidence"] for row in rows.values() if row is not None and "confidence" in row]
        assert "High" in rated, claim.claim_id


def test_no_note_denies_what_its_verdict_asserts():
    """A 'supported' or 'contradicted' verdict whose note says the sources do not establish it (the
    c11 case) is the wrong verdict."""
    import re

    for claim in REGISTER[REGISTER["evidence_strength"] == "full"].itertuples():
        for pattern in DENIALS:
            assert not re.search(pattern, claim.note, re.IGNORECASE), (claim.claim_id, pattern)


def test_the_denial_check_catches_the_audited_case():
    import re

    before = ("Full-scale fighting began on 27 September 2020 and the ceasefire took effect on 10 November. "
              "Our sources do not say who started the fighting.")
    assert any(re.search(p, before, re.IGNORECASE) for p in DENIALS)


def test_the_2021_gas_share_in_c22_reproduces_from_its_rows():
    from report_helpers import analysis, fmt

    shares = analysis.gas_shares(catalogue.load_table("gas_imports"))
    russia_2021 = shares[(shares["year"] == 2021) & (shares["partner"] == "Russian Federation")]
    value = float(russia_2021["share_pct"].iloc[0])
    assert fmt.pct(value, 1) == "87.7%"
    assert "87.7% in 2021" in REGISTER.set_index("claim_id").loc["c22", "note"]


def test_a_target_keyed_to_a_later_year_counts_from_its_announcement():
    """c30 cites the MoU's 2027 target; an edition as of 2024 knows it (it was announced in 2022)."""
    rows = claims.resolve(claims.parse_evidence("eu_gas_azerbaijan:2027|mou_target_bcm"), dt.date(2024, 6, 30))
    assert rows["eu_gas_azerbaijan:2027|mou_target_bcm"] is not None
    rows = claims.resolve(claims.parse_evidence("eu_gas_azerbaijan:2027|mou_target_bcm"), dt.date(2022, 7, 17))
    assert rows["eu_gas_azerbaijan:2027|mou_target_bcm"] is None
