"""`briefing send --corrections`: a correction notice, exactly once per recipient, to the lists that
opted in and whose recipients received an edition the correction affects; through a real SMTP server
(aiosmtpd), with editions really built (delivery_support)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from delivery_support import SmtpServer, build_editions
from test_send import FROM, ledger, send, write_config

pytest.importorskip("aiosmtpd")
pytestmark = pytest.mark.e2e

ROW = "iri-2022-06|most_trusted_politician|Pashinyan|yes"


@pytest.fixture(scope="session")
def editions(tmp_path_factory):
    return build_editions(tmp_path_factory.getbasetemp() / "delivery-editions")


@pytest.fixture
def reports(editions, tmp_path):
    return editions.copy(tmp_path / "reports")


@pytest.fixture
def smtp_env(monkeypatch):
    def set_env(port: int):
        for name, value in {"BRIEFING_SMTP_HOST": "127.0.0.1", "BRIEFING_SMTP_PORT": str(port),
                            "BRIEFING_SMTP_SECURITY": "none", "BRIEFING_MAIL_FROM": FROM}.items():
            monkeypatch.setenv(name, value)
    return set_env


@pytest.fixture
def logged(editions, tmp_path, monkeypatch):
    """A project whose corrections log holds one correction, of the 2024-06-30 full edition."""
    root = tmp_path / "project"
    shutil.copytree(editions.project / "data", root / "data")
    shutil.copytree(editions.project / "notebooks", root / "notebooks")
    shutil.copy(editions.project / "briefing.toml", root / "briefing.toml")
    (root / "data" / "corrections.csv").write_text(
        "date,table,row,column,was,now,why,editions\n"
        f"{dt.date.today()},public_opinion,{ROW},percent,17,16,Read from the wrong survey,2024-06-30_full\n",
        encoding="utf-8")
    monkeypatch.setenv("BRIEFING_PROJECT_DIR", str(root))
    return root


CONFIG = """[lists.ministers]
to = ["a@example.org", "b@example.org"]
corrections = true
link_base = "https://briefing.example.org/editions/"

[lists.desk]
to = ["desk@example.org"]
"""


def test_a_notice_goes_once_to_those_who_received_an_affected_edition(editions, reports, logged, smtp_env,
                                                                       tmp_path, capsys):
    config = write_config(tmp_path / "distribution.toml", CONFIG)
    with SmtpServer() as server:
        smtp_env(server.port)
        # a@ and desk@ receive the affected 2024-06-30 edition; b@ only the later one
        assert send(capsys, config, reports, "--list", "ministers", "--list", "desk",
                    "--edition-id", "2024-06-30_full")[0] == 0
        ledger_now = ledger(reports)
        ledger_now["lists"]["ministers"].pop("b@example.org")
        (reports / "delivery-ledger.json").write_text(__import__("json").dumps(ledger_now))
        assert send(capsys, config, reports, "--list", "ministers", "--edition-id", "2025-06-30_full")[0] == 0
        before = len(server.received)
        code, out, err = send(capsys, config, reports, "--list", "ministers", "--list", "desk", "--corrections")
        assert code == 0, err
        notices = server.received[before:]
        assert [r.rcpt_tos for r in notices] == [["a@example.org"]]  # b@ had no affected edition; desk opted out
        assert "desk: no correction notices" in out
        msg = notices[0].message
        assert msg["Subject"] == "Correction: Frenemies briefing (2024-06-30_full)"
        text = msg.get_body(("plain",)).get_content()
        assert "it said:  17" in text and "it says:  16" in text and "Read from the wrong survey" in text
        assert "https://briefing.example.org/editions/2024-06-30_full/briefing.html" in text
        assert msg["X-Briefing-Correction"].startswith("correction:")
        # exactly once: a second run sends nothing
        code, out, _ = send(capsys, config, reports, "--list", "ministers", "--corrections")
        assert code == 0 and len(server.received) == before + 1
        assert "no correction notice to send" in out
    entries = ledger(reports)["lists"]["ministers"]["a@example.org"]
    assert [e["outcome"] for e in entries if e["edition_id"].startswith("correction:")] == ["sent"]


def test_corrections_must_be_true_or_false(reports, logged, smtp_env, tmp_path, capsys):
    config = write_config(tmp_path / "distribution.toml", '[lists.ministers]\nto = ["a@example.org"]\n'
                                                          'corrections = "yes"\n')
    smtp_env(2525)
    code, _, err = send(capsys, config, reports, "--list", "ministers", "--corrections")
    assert code == 2 and "[lists.ministers] corrections: must be true or false" in err
