"""`briefing send` and `briefing build --send` against a real SMTP server on 127.0.0.1 (aiosmtpd),
with editions from real builds. No test sends mail anywhere else."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from delivery_support import Behaviour, SmtpServer, build_editions, free_port
from report_helpers import cli, fmt

pytest.importorskip("aiosmtpd")
pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]
FROM = "Frenemies briefing <briefing@example.org>"
PASSWORD = "s3cret-Pa55 word"  # must never show up in output, ledger or manifests


@pytest.fixture(scope="session")
def editions(tmp_path_factory):
    return build_editions(tmp_path_factory.getbasetemp() / "delivery-editions")


@pytest.fixture
def reports(editions, tmp_path) -> Path:
    return editions.copy(tmp_path / "reports")


@pytest.fixture
def smtp_env(monkeypatch):
    """The SMTP variables for a server on 127.0.0.1; call with the port (and what else differs)."""
    for name in list(os.environ):
        if name.startswith("BRIEFING_SMTP_") or name == "BRIEFING_MAIL_FROM":
            monkeypatch.delenv(name)

    def set_env(port: int, security: str = "none", user: str | None = None, password: str | None = None):
        values = {"BRIEFING_SMTP_HOST": "127.0.0.1", "BRIEFING_SMTP_PORT": str(port),
                  "BRIEFING_SMTP_SECURITY": security, "BRIEFING_MAIL_FROM": FROM}
        if user:
            values |= {"BRIEFING_SMTP_USER": user, "BRIEFING_SMTP_PASSWORD": password}
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return values

    return set_env


def write_config(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def one_list(tmp_path: Path, *to: str, extra: str = "", name: str = "ministers") -> Path:
    addresses = ", ".join(f'"{a}"' for a in to)
    return write_config(tmp_path / "distribution.toml", f"[lists.{name}]\nto = [{addresses}]\n{extra}")


def send(capsys, config: Path, reports: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["send", "--config", str(config), "--reports-dir", str(reports), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def ledger(reports: Path) -> dict:
    return json.loads((reports / "delivery-ledger.json").read_text())


def entry(reports: Path, address: str, edition_id: str, list_name: str = "ministers") -> dict:
    return next(e for e in ledger(reports)["lists"][list_name][address] if e["edition_id"] == edition_id)


def expected_key_points(edition_dir: Path) -> list[tuple[str, str]]:
    """The judgements as the key points page shows them, without their sources and the "how it was
    computed" disclosure (read here with a regex, independently)."""
    page = (edition_dir / "00_key_points.html").read_text(encoding="utf-8")
    clean = []
    for aside in re.findall(r'<aside class="judgement">(.*?)</aside>', page, re.S):
        label = re.search(r'<p class="judgement-label">(.*?)</p>', aside, re.S)
        body = re.sub(r'<span class="judgement-sources">.*?</span>|<details\b.*?</details>', "",
                      aside[label.end():], flags=re.S)
        clean.append((re.sub(r"^\d+ · ", "", html.unescape(label.group(1))),
                      " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())))
    assert len(clean) == 3, clean
    return clean


def test_message_as_received(editions, reports, smtp_env, tmp_path, capsys):
    edition_id = editions.ids["new"]
    config = one_list(tmp_path, "a@example.org", "b@example.org",
                      extra='link_base = "https://briefing.example.org/editions"\n'
                            'unsubscribe = "https://briefing.example.org/unsubscribe?list=ministers"\n')
    with SmtpServer() as server:
        smtp_env(server.port)
        code, out, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 0, err
        assert len(server.received) == 2
        edition_dir = reports / edition_id
        pdf = (edition_dir / "briefing.pdf").read_bytes()
        manifest = json.loads((edition_dir / "manifest.json").read_text())
        points = expected_key_points(edition_dir)
        ids = set()
        for got, address in zip(server.received, ("a@example.org", "b@example.org")):
            assert got.rcpt_tos == [address]  # one message per recipient
            assert got.mail_from == "briefing@example.org"
            msg = got.message
            assert msg["To"] == address and msg["Cc"] is None and msg["Bcc"] is None
            assert msg["Subject"] == "Frenemies briefing as of 30 June 2025"
            assert msg["From"] == FROM
            assert re.fullmatch(r"<[0-9a-f]{32}\.2025-06-30_full@example\.org>", msg["Message-ID"])
            ids.add(msg["Message-ID"])
            assert msg["Date"].datetime.tzinfo is not None
            assert msg["List-Id"] == '"Frenemies briefing: ministers" <ministers.briefing.example.org>'
            assert msg["List-Unsubscribe"] == "<https://briefing.example.org/unsubscribe?list=ministers>"
            text = msg.get_body(("plain",)).get_content()
            page = msg.get_body(("html",)).get_content()
            link = f"https://briefing.example.org/editions/{edition_id}/briefing.html"
            assert "computed" not in text and "Unrounded" not in text  # the disclosure stays in the briefing
            for label, point in points:
                assert f"{label}: {point}" in text
                assert html.escape(point, quote=True) in page or point in html.unescape(page)
            assert "As of 30 June 2025" in text and "As of <strong>30 June 2025</strong>" in page
            previous = manifest["changes"]["previous"]
            if previous:
                heading = "Changes since " + fmt.date(previous["as_of"])
                assert heading in text and heading in page
            for item in manifest["changes"]["items"]:
                assert f"- {item}" in text
            assert link in text and f'href="{link}"' in page
            # the HTML body is a page of its own: language, title, heading, real text, nothing remote
            assert '<html lang="en">' in page and "<title>" in page and "<h1" in page
            assert "<img" not in page.lower() and "src=" not in page.lower()
            assert "url(" not in page.lower()
            attachments = list(msg.iter_attachments())
            assert len(attachments) == 1
            assert attachments[0].get_content_type() == "application/pdf"
            assert attachments[0].get_filename() == f"frenemies-briefing-{edition_id}.pdf"
            assert attachments[0].get_content() == pdf  # byte for byte the published file
            record = entry(reports, address, edition_id)
            assert record["outcome"] == "sent" and record["message_id"] == msg["Message-ID"]
            assert record["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
            assert record["time"] and record["as_of"] == "2025-06-30"
        assert len(ids) == 2

        # again: nobody receives it twice, exit 0, and it says so
        code, out, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 0, err
        assert len(server.received) == 2 and server.handler.rcpt_attempts.count("a@example.org") == 1
        assert "a@example.org: already has 2025-06-30_full" in out
        assert "nothing to send" in out


def test_attach_none_brief_list_and_dry_run(editions, reports, smtp_env, tmp_path, capsys):
    config = write_config(tmp_path / "d.toml", """
[lists.ministers]
to = ["a@example.org"]
[lists.desk]
to = ["desk@example.org"]
edition = "brief"
attach = "none"
subject = "{briefing}: {as_of_iso} ({list})"
""")
    with SmtpServer() as server:
        smtp_env(server.port)
        code, out, err = send(capsys, config, reports, "--list", "desk", "--list", "ministers",
                              "--edition-id", editions.ids["brief"], "--dry-run")
        assert code == 2 and "is a brief edition, and the list receives full editions" in err  # ministers
        code, out, err = send(capsys, config, reports, "--list", "desk", "--edition-id", editions.ids["brief"],
                              "--dry-run")
        assert code == 0, err
        assert "desk: desk@example.org: would send 2025-06-30_brief" in out and "nothing was sent" in out
        assert server.received == [] and not (reports / "delivery-ledger.json").exists()
        code, out, err = send(capsys, config, reports, "--list", "desk", "--edition-id", editions.ids["brief"])
        assert code == 0, err
        msg = server.received[0].message
        assert msg["Subject"] == "Frenemies briefing (brief edition): 2025-06-30 (desk)"
        assert list(msg.iter_attachments()) == []
        assert "attached" not in msg.get_body(("plain",)).get_content()


def test_latest_is_sent_by_default(editions, reports, smtp_env, tmp_path, capsys):
    latest = json.loads((reports / "latest" / "manifest.json").read_text())["edition_id"]
    config = one_list(tmp_path, "a@example.org")
    with SmtpServer() as server:
        smtp_env(server.port)
        code, _, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 0, err
        assert server.received[0].message["X-Briefing-Edition"] == latest == editions.ids["new"]


def test_only_if_changed(editions, reports, smtp_env, tmp_path, capsys):
    config = one_list(tmp_path, "a@example.org", "new@example.org")
    with SmtpServer() as server:
        smtp_env(server.port)
        assert send(capsys, config, reports, "--list", "ministers", "--edition-id", editions.ids["old"])[0] == 0
        code, out, _ = send(capsys, config, reports, "--list", "ministers", "--only-if-changed",
                            "--edition-id", editions.ids["new"])
        assert code == 0 and out.count(": sent 2025-06-30_full") == 2  # new figures and events: sent
        # the variant differs only by an analyst's note: same figures, events and verdicts
        code, out, _ = send(capsys, config, reports, "--list", "ministers", "--only-if-changed",
                            "--edition-id", editions.ids["variant"])
        assert code == 0 and len(server.received) == 4
        assert "has the same key figures, events and verdicts as 2025-06-30_full" in out
        # without the flag it is another edition, so it goes out
        code, out, _ = send(capsys, config, reports, "--list", "ministers", "--edition-id", editions.ids["variant"])
        assert code == 0 and len(server.received) == 6


BAD_CONFIGS = [
    ('[lists.ministers]\nto = ["a@example.org"]\n', ["--list", "cabinet"], "no list named 'cabinet'"),
    ('[lists.ministers\nto = ["a@example.org"]\n', ["--list", "ministers"], "not valid TOML"),
    ('[lists.ministers]\nto = ["a@example.org", "not-an-address"]\n', ["--list", "ministers"],
     "[lists.ministers] to: 'not-an-address' is not a valid email address"),
    ('[lists.ministers]\nto = ["a@example.org"]\nedition = "weekly"\n', ["--list", "ministers"],
     "[lists.ministers] edition: 'weekly' must be one of full, brief"),
    ('[lists.ministers]\nto = ["a@example.org"]\nattachment = "pdf"\n', ["--list", "ministers"],
     "[lists.ministers]: unknown key 'attachment'"),
    ('[lists.ministers]\nto = ["a@example.org"]\nsubject = "{briefing} {date}"\n', ["--list", "ministers"],
     "[lists.ministers] subject: unknown placeholder {date}"),
    ('[lists.ministers]\nto = ["a@example.org"]\nlink_base = "ftp://x"\n', ["--list", "ministers"],
     "[lists.ministers] link_base: 'ftp://x' is not a https or http URL"),
    ('[lists.ministers]\nto = ["a@example.org"]\nunsubscribe = "mailto:nobody"\n', ["--list", "ministers"],
     "[lists.ministers] unsubscribe: 'nobody' is not a valid email address"),
    ('[lists.ministers]\nto = []\n', ["--list", "ministers"], "key 'to' must be a non-empty list"),
    ('[lists.ministers]\nto = ["a@example.org", "A@example.org"]\n', ["--list", "ministers"], "listed twice"),
]


@pytest.mark.parametrize("body,args,message", BAD_CONFIGS)
def test_bad_config_exits_2_before_sending(body, args, message, editions, reports, smtp_env, tmp_path, capsys):
    config = write_config(tmp_path / "distribution.toml", body)
    with SmtpServer() as server:
        smtp_env(server.port)
        code, _, err = send(capsys, config, reports, *args)
        assert code == 2
        assert message in err and str(config) in err
        assert server.handler.rcpt_attempts == [] and not (reports / "delivery-ledger.json").exists()


@pytest.mark.parametrize("change,message", [
    ({"BRIEFING_SMTP_HOST": None}, "BRIEFING_SMTP_HOST is not set"),
    ({"BRIEFING_MAIL_FROM": None}, "BRIEFING_MAIL_FROM is not set"),
    ({"BRIEFING_MAIL_FROM": "briefing at example.org"}, "BRIEFING_MAIL_FROM: 'briefing at example.org' is not"),
    ({"BRIEFING_SMTP_SECURITY": "tls"}, "BRIEFING_SMTP_SECURITY='tls': must be one of none, starttls, ssl"),
    ({"BRIEFING_SMTP_PORT": "smtp"}, "BRIEFING_SMTP_PORT='smtp': must be a port number"),
    ({"BRIEFING_SMTP_USER": "analyst"}, "BRIEFING_SMTP_PASSWORD is not set"),
])
def test_bad_smtp_setting_exits_2(change, message, reports, smtp_env, tmp_path, capsys, monkeypatch):
    config = one_list(tmp_path, "a@example.org")
    with SmtpServer() as server:
        smtp_env(server.port)
        for name, value in change.items():
            if value is None:
                monkeypatch.delenv(name)
            else:
                monkeypatch.setenv(name, value)
        code, _, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 2 and message in err
        assert server.handler.rcpt_attempts == []


def test_missing_default_config_names_it(reports, smtp_env, tmp_path, capsys, monkeypatch):
    (tmp_path / "project" / "data").mkdir(parents=True)
    (tmp_path / "project" / "data" / "datapackage.json").write_text("{}")
    (tmp_path / "project" / "notebooks").mkdir()
    (tmp_path / "project" / "briefing.toml").write_text('[briefing]\nname = "N"\ntitle = "T"\nauthor = "A"\n')
    monkeypatch.setenv("BRIEFING_PROJECT_DIR", str(tmp_path / "project"))
    smtp_env(free_port())
    code = cli.main(["send", "--list", "ministers", "--reports-dir", str(reports)])
    err = capsys.readouterr().err
    assert code == 2 and f"{tmp_path / 'project' / 'distribution.toml'}: no such distribution file" in err


def test_failed_partial_or_damaged_edition_is_never_sent(editions, reports, smtp_env, tmp_path, capsys):
    config = one_list(tmp_path, "a@example.org")
    source = (reports / editions.ids["new"]).resolve()
    for name, damage, message in [
        ("2025-06-30_full_partial", lambda m, d: m.update(status="partial"), "its status is 'partial'"),
        ("2025-06-30_full_damaged", lambda m, d: (d / "briefing.pdf").write_bytes(b"%PDF-1.7 cut short"),
         "briefing.pdf does not match the SHA-256 in its manifest"),
        ("2025-06-30_full_nopdf", lambda m, d: (d / "briefing.pdf").unlink(), "briefing.pdf is missing"),
    ]:
        target = reports / name
        shutil.copytree(source, target)
        manifest = json.loads((target / "manifest.json").read_text())
        damage(manifest, target)
        (target / "manifest.json").write_text(json.dumps(manifest))
        with SmtpServer() as server:
            smtp_env(server.port)
            code, _, err = send(capsys, config, reports, "--list", "ministers", "--edition-id", name)
            assert code == 2 and "never sent" in err and message in err, err
            assert server.handler.rcpt_attempts == []
    with SmtpServer() as server:
        smtp_env(server.port)
        code, _, err = send(capsys, config, reports, "--list", "ministers", "--edition-id", "2099-01-01_full")
        assert code == 2 and "no such published edition" in err
        code, _, err = send(capsys, config, reports, "--list", "ministers", "--edition-id", "../etc")
        assert code == 2 and server.handler.rcpt_attempts == []
    assert not (reports / "delivery-ledger.json").exists()


def test_server_down_then_next_run_delivers(editions, reports, smtp_env, tmp_path, capsys):
    config = one_list(tmp_path, "a@example.org", "b@example.org")
    port = free_port()  # nothing listens there
    smtp_env(port)
    code, _, err = send(capsys, config, reports, "--list", "ministers")
    assert code == 5
    assert f"could not reach the SMTP server 127.0.0.1:{port} (none)" in err and "nothing was sent" in err
    assert "not attempted: ministers: a@example.org, ministers: b@example.org" in err
    assert entry(reports, "a@example.org", editions.ids["new"])["outcome"] == "failed"
    with SmtpServer() as server:
        smtp_env(server.port)
        code, out, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 0, err
        assert len(server.received) == 2 and "again: it failed" in out


def test_login_refused_never_shows_the_password(editions, reports, smtp_env, tmp_path, capsys):
    config = one_list(tmp_path, "a@example.org")
    with SmtpServer(login=("analyst", PASSWORD)) as server:
        smtp_env(server.port, user="analyst", password=PASSWORD + "-wrong")
        code, out, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 5 and server.received == []
        assert "refused the login of analyst: refused: 535" in err
        assert server.logins and not any(ok for _, ok in server.logins)  # PLAIN, then LOGIN: both refused
        smtp_env(server.port, user="analyst", password=PASSWORD)
        code, out2, err2 = send(capsys, config, reports, "--list", "ministers")
        assert code == 0, err2
        assert len(server.received) == 1
    seen = out + err + out2 + err2 + (reports / "delivery-ledger.json").read_text()
    seen += "".join(p.read_text(errors="replace") for p in reports.rglob("manifest.json"))
    assert PASSWORD not in seen and PASSWORD + "-wrong" not in seen


def test_one_recipient_refused(editions, reports, smtp_env, tmp_path, capsys):
    config = one_list(tmp_path, "a@example.org", "gone@example.org", "c@example.org")
    behaviour = Behaviour(reject={"gone@example.org": "550 5.1.1 <gone@example.org>: no such user"})
    with SmtpServer(behaviour=behaviour) as server:
        smtp_env(server.port)
        code, out, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 5
        assert "ministers: gone@example.org: refused: 550 5.1.1 <gone@example.org>: no such user" in err
        assert "2 sent" in err
        assert [r.rcpt_tos for r in server.received] == [["a@example.org"], ["c@example.org"]]
        assert entry(reports, "gone@example.org", editions.ids["new"])["outcome"] == "failed"
        # the next run tries only the one that was refused
        attempts = len(server.handler.rcpt_attempts)
        code, _, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 5 and server.handler.rcpt_attempts[attempts:] == ["gone@example.org"]
        # once the address is taken off the list, there is nothing left to do
        one_list(tmp_path, "a@example.org", "c@example.org")
        code, out, _ = send(capsys, config, reports, "--list", "ministers")
        assert code == 0 and "nothing to send" in out and len(server.received) == 2


def test_temporary_failure_then_accepted(editions, reports, smtp_env, tmp_path, capsys):
    config = one_list(tmp_path, "a@example.org", "b@example.org", "c@example.org")
    behaviour = Behaviour(temp_once={"b@example.org": "451 4.3.0 try again later"})
    with SmtpServer(behaviour=behaviour) as server:
        smtp_env(server.port)
        code, _, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 5 and "ministers: b@example.org: temporary failure: 451 4.3.0 try again later" in err
        assert len(server.received) == 2
        code, out, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 0, err
        assert [r.rcpt_tos for r in server.received][-1] == ["b@example.org"] and len(server.received) == 3
        assert out.count("already has") == 2


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, ca_file


def test_starttls_with_self_signed_certificate(certificates, editions, reports, smtp_env, tmp_path, capsys,
                                               monkeypatch):
    server_context, ca_file = certificates
    config = one_list(tmp_path, "a@example.org")
    with SmtpServer(login=("analyst", PASSWORD), tls=server_context) as server:
        smtp_env(server.port, security="starttls", user="analyst", password=PASSWORD)
        # a certificate the client does not trust: refused before anything is sent
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
        code, _, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 5 and "CERTIFICATE_VERIFY_FAILED" in err.upper().replace(" ", "_")
        assert server.logins == [] and server.received == []
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        code, _, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 0, err
        assert server.logins == [("analyst", True)] and len(server.received) == 1
    with SmtpServer() as plain:  # a server without STARTTLS: never falls back to plain text
        smtp_env(plain.port, security="starttls")
        code, _, err = send(capsys, config, reports, "--list", "ministers", "--edition-id", editions.ids["old"])
        assert code == 5 and "does not offer STARTTLS" in err and plain.received == []


def test_implicit_tls(certificates, editions, reports, smtp_env, tmp_path, capsys, monkeypatch):
    server_context, ca_file = certificates
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    config = one_list(tmp_path, "a@example.org")
    with SmtpServer(login=("analyst", PASSWORD), ssl=server_context) as server:
        smtp_env(server.port, security="ssl", user="analyst", password=PASSWORD)
        code, _, err = send(capsys, config, reports, "--list", "ministers")
        assert code == 0, err
        assert len(server.received) == 1 and server.logins == [("analyst", True)]


def test_kill_between_recipients_repeats_at_most_the_message_in_flight(editions, reports, smtp_env, tmp_path):
    config = one_list(tmp_path, "a@example.org", "b@example.org", "c@example.org")
    behaviour = Behaviour(block={"b@example.org"})
    command = [sys.executable, "-m", "report_helpers", "send", "--list", "ministers", "--config", str(config),
               "--reports-dir", str(reports)]
    with SmtpServer(behaviour=behaviour) as server:
        env = {**os.environ, **smtp_env(server.port)}
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert behaviour.blocked.wait(60), "the send never reached the second recipient"
            os.kill(child.pid, signal.SIGKILL)  # b's message is in, the client never heard back
        finally:
            child.wait(30)
        assert child.returncode == -signal.SIGKILL
        before = ledger(reports)["lists"]["ministers"]
        assert before["a@example.org"][0]["outcome"] == "sent"
        assert before["b@example.org"][0]["outcome"] == "sending"
        assert "c@example.org" not in before
        behaviour.block.clear()
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert "b@example.org: sent 2025-06-30_full (again: the run that sent it" in rerun.stdout
        counts = {a: len(server.to(a)) for a in ("a@example.org", "b@example.org", "c@example.org")}
        assert counts == {"a@example.org": 1, "b@example.org": 2, "c@example.org": 1}
        # the one repeat carries the same Message-ID, so clients that deduplicate show it once
        assert len({r.message["Message-ID"] for r in server.to("b@example.org")}) == 1
        assert {e["outcome"] for v in ledger(reports)["lists"]["ministers"].values() for e in v} == {"sent"}


def test_build_send_delivers_only_after_a_successful_build(editions, reports, smtp_env, tmp_path):
    """`briefing build --send`: config checked first; a failed build sends nothing; an up-to-date or
    fresh build of the edition sends it."""
    project = editions.project
    config = project / "distribution.toml"
    command = [sys.executable, "-m", "report_helpers", "build", "--reports-dir", str(reports), "-q"]
    with SmtpServer() as server:
        env = {**os.environ, **smtp_env(server.port), "BRIEFING_PROJECT_DIR": str(project)}
        try:
            write_config(config, '[lists.desk]\nto = ["desk@example.org"]\nedition = "brief"\n')
            run = subprocess.run(command + ["--as-of", "2025-06-30", "--send", "desk"], env=env,
                                 capture_output=True, text=True, timeout=600)
            assert run.returncode == 2 and "receives brief editions, and this build makes a full" in run.stderr
            write_config(config, '[lists.ministers]\nto = ["a@example.org"]\n')
            run = subprocess.run(command + ["--as-of", "2999-01-01", "--send", "ministers"], env=env,
                                 capture_output=True, text=True, timeout=600)
            assert run.returncode == 2 and server.handler.rcpt_attempts == []
            run = subprocess.run(command + ["--as-of", "2025-06-30", "--send", "ministers"], env=env,
                                 capture_output=True, text=True, timeout=600)
            assert run.returncode == 0, run.stderr
            assert [r.message["X-Briefing-Edition"] for r in server.received] == ["2025-06-30_full"]
            assert "ministers: a@example.org: sent 2025-06-30_full" in run.stdout
        finally:
            config.unlink(missing_ok=True)


def test_example_distribution_file_is_valid():
    from report_helpers.delivery.config import load_distribution

    example = load_distribution(Path(__file__).resolve().parents[1] / "distribution.example.toml")
    assert set(example.lists) == {"ministers", "desk"} and example.lists["desk"].edition == "brief"
