"""The claims register: every claim placed, every assessment dated after its evidence, every piece of
evidence real, every source used; an as-of register shows nothing that was not yet public."""

import datetime as dt

import pandas as pd
import pytest

from report_helpers import catalogue, claims, periods
from report_helpers.sections import discover

REGISTER = claims.register()  # each claim with its latest assessment
ASSESSMENTS = claims.assessments()  # every dated assessment


def test_every_claim_names_an_existing_section():
    slugs = {s.slug for s in discover()}
    assert set(REGISTER["section"]) <= slugs
    article_sections = {s.slug for s in discover() if s.order < 90}
    assert set(REGISTER["section"]) == article_sections  # every section has claims


def test_facts_have_verdicts_and_judgements_do_not():
    kinds = REGISTER.set_index("claim_id")["kind"]
    with_kind = ASSESSMENTS.assign(kind=ASSESSMENTS["claim_id"].map(kinds))
    assert with_kind[with_kind["kind"] == "fact"]["verdict"].notna().all()
    assert with_kind[with_kind["kind"] == "judgement"]["verdict"].isna().all()
    assert len(REGISTER) >= 40 and REGISTER["assessed_from"].notna().all()  # every claim assessed today


@pytest.mark.parametrize("assessment", list(ASSESSMENTS.itertuples()), ids=lambda a: f"{a.claim_id}-{a.assessed_from}")
def test_evidence_exists_and_was_public_by_the_assessment(assessment):
    refs = claims.parse_evidence(assessment.evidence)
    if isinstance(assessment.verdict, str) and assessment.verdict != claims.NOT_VERIFIABLE:
        assert refs, f"{assessment.claim_id} has a verdict but no evidence"
    days = claims.public_days(refs)
    assert [ref for ref, day in days.items() if day is None] == []
    assert all(day <= assessment.assessed_from for day in days.values())


def test_an_assessment_dated_before_its_evidence_is_refused_naming_file_row_and_column(tmp_path):
    import shutil

    from report_helpers.paths import data_dir

    shutil.copytree(data_dir(), tmp_path / "data")
    path = tmp_path / "data" / "claim_assessments.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith("c01,"))
    lines[number] = lines[number].replace(lines[number].split(",")[1], "2020-01-01", 1)
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(catalogue.DataError) as caught:
        claims.check(tmp_path / "data")
    message = str(caught.value)
    assert "claim_assessments.csv" in message and f"row {number + 1}" in message
    assert "assessed_from" in message and "after the assessment's date" in message


def test_a_note_naming_a_later_year_is_refused():
    day = dt.date(2024, 6, 13)
    assert periods.later_years("No formal withdrawal up to November 2026.", day) == [2026]
    assert periods.later_years("What was delivered by the end of 2025 is disputed.", day) == [2025]
    assert periods.later_years("The lease runs until 2044; elections are due in 2026.", day) == []
    assert periods.later_years("Frozen since February 2024.", day) == []


def test_every_source_is_cited_by_a_row_or_a_claim():
    cited = set()
    for res in catalogue.read_catalogue()["resources"]:
        if res["name"] not in ("sources", "claims", claims.ASSESSMENTS):
            table = catalogue.load_table(res["name"])
            cited |= set(table["source_id"]) | set(table["public_source_id"].dropna())
    for assessment in ASSESSMENTS.itertuples():
        cited |= {ref.key for ref in claims.parse_evidence(assessment.evidence) if ref.table == "sources"}
    assert set(catalogue.sources()) - cited == set()


def test_the_article_errors_the_register_must_catch():
    text = " ".join(REGISTER["claim"].str.lower()) + " " + " ".join(REGISTER["note"].fillna("").str.lower())
    for topic in ("six-week", "87", "2002", "base"):
        assert topic in text, topic
    csto = REGISTER[REGISTER["claim"].str.contains("2002")]
    assert set(csto["verdict"]) <= {"partly supported", "contradicted"}


AS_OF_DATES = [dt.date(2020, 12, 31), dt.date(2022, 6, 30), dt.date(2022, 12, 31), dt.date(2024, 6, 30),
               dt.date(2025, 6, 30)]


@pytest.mark.parametrize("as_of", AS_OF_DATES, ids=str)
def test_register_as_of_a_date_shows_only_what_was_public_then(as_of):
    """No evidence key, note or verdict of an assessment made after the as-of date (the audit found 112
    later evidence keys in the 2022-06-30 edition), and no note naming a later year."""
    register = claims.register(as_of)
    tables: dict = {}
    for claim in register.itertuples():
        for ref, day in claims.public_days(claims.parse_evidence(claim.evidence), tables).items():
            assert day is not None and day <= as_of, (claim.claim_id, ref, day)
        if isinstance(claim.shown_note, str):
            assert periods.later_years(claim.shown_note, as_of) == [], (claim.claim_id, claim.shown_note)
        if pd.isna(claim.assessed_from):
            assert claim.kind == "judgement" or str(claim.shown_verdict).endswith(f"as of {as_of}")
        else:
            assert claim.assessed_from <= as_of


def test_a_later_assessment_does_not_hide_an_earlier_one():
    """A fact assessed on earlier evidence keeps that verdict in editions before its later assessment."""
    several = ASSESSMENTS.groupby("claim_id").filter(lambda rows: len(rows) > 1)
    assert not several.empty, "some claims are assessed at more than one date"
    for claim_id, rows in several.groupby("claim_id"):
        first, second = rows.sort_values("assessed_from")["assessed_from"].iloc[:2]
        between = second - dt.timedelta(days=1)
        shown = claims.register(between).set_index("claim_id").loc[claim_id]
        assert shown["assessed_from"] == first, claim_id


def test_malformed_evidence_is_named():
    with pytest.raises(catalogue.DataError, match="table:key"):
        claims.parse_evidence("events-without-colon")


# A verdict must follow from its evidence and agree with the register's other notes (README, claims
# register). What a test can check: the stated strength of the evidence, its confidence, and notes
# that deny what their verdict asserts.

STRENGTH = claims.STRENGTH  # the register checks the same rule when the data are validated
# Phrases by which a note says the evidence does not establish the claim.
DENIALS = [r"\b(source|sources|data|evidence|tables?)\b[^.;]{0,40}\b(do|does|did) not (say|show|establish|state|record|confirm)",
           r"\b(it|they) (do|does) not establish\b", r"\bconfirm neither\b", r"\bcannot be verified\b",
           r"\bnot verifiable\b", r"\bunverified\b", r"\bnothing (on|about)\b"]


def test_every_fact_states_how_much_its_evidence_establishes():
    kinds = REGISTER.set_index("claim_id")["kind"]
    for claim in ASSESSMENTS.itertuples():
        if kinds[claim.claim_id] == "fact":
            assert claim.evidence_strength == STRENGTH[claim.verdict], claim.claim_id
        else:
            assert pd.isna(claim.evidence_strength), claim.claim_id


def test_a_full_verdict_rests_on_high_confidence_evidence():
    """Low rows (secondary, derived, disputed) can support part of a claim, never all of it alone."""
    tables: dict = {}
    for claim in ASSESSMENTS[ASSESSMENTS["evidence_strength"] == "full"].itertuples():
        rows = claims.resolve(claims.parse_evidence(claim.evidence), None, tables)
        rated = [row["confidence"] for row in rows.values() if row is not None and "confidence" in row]
        assert "High" in rated, claim.claim_id


def test_no_note_denies_what_its_verdict_asserts():
    """A 'supported' or 'contradicted' verdict whose note says the sources do not establish it (the
    c11 case) is the wrong verdict."""
    import re

    for claim in ASSESSMENTS[ASSESSMENTS["evidence_strength"] == "full"].itertuples():
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
