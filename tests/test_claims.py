"""The claims register: every claim placed, every piece of evidence real, every source used."""

import datetime as dt

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
            cited |= set(catalogue.load_table(res["name"])["source_id"])
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
