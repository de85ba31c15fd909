"""One email per recipient: plain text and HTML bodies, the PDF attached, list headers.

Built with the standard library's `email` package. The Message-ID is derived from the edition,
its PDF, the list and the recipient, so the one message a crash may repeat carries the same id
(mail clients that deduplicate by Message-ID then show it once).
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate
from functools import lru_cache

import jinja2

from .config import ListConfig, SmtpSettings, default_unsubscribe
from .. import project
from ..publishing.edition import PublishedEdition

_TEXT = """\
{{ heading }}
{{ "=" * heading|length }}

As of {{ e.as_of_text }}: data and events after this date are left out.

Key points
----------
{% for p in points %}
{{ loop.index }}. {% if p.label %}{{ p.label }}: {% endif %}{{ p.text }}
{% else %}
The key points are at the front of the briefing.
{% endfor %}

{{ e.changes_heading }}
{{ "-" * e.changes_heading|length }}
{% for item in e.change_items %}
- {{ item }}
{% endfor %}

{% if link %}Read the briefing online: {{ link }}
{% endif %}{% if attached %}The briefing is attached as a PDF ({{ filename }}).
{% endif %}
-- 
You receive this as a member of the list "{{ list.name }}".
To unsubscribe: {{ unsubscribe }}
"""

_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ heading }}</title>
</head>
<body style="font-family: Lato, 'Segoe UI', Arial, sans-serif; line-height: 1.5; color: #1a1a1a; max-width: 40em; margin: 0 auto; padding: 1em;">
<main>
<h1 style="font-size: 1.5em;">{{ heading }}</h1>
<p>As of <strong>{{ e.as_of_text }}</strong>: data and events after this date are left out.</p>
<h2 style="font-size: 1.2em;">Key points</h2>
{% if points %}
<ol>
{% for p in points %}  <li>{% if p.label %}<strong>{{ p.label }}.</strong> {% endif %}{{ p.text }}</li>
{% endfor %}</ol>
{% else %}
<p>The key points are at the front of the briefing.</p>
{% endif %}
<h2 style="font-size: 1.2em;">{{ e.changes_heading }}</h2>
<ul>
{% for item in e.change_items %}  <li>{{ item }}</li>
{% endfor %}</ul>
{% if link %}<p><a href="{{ link }}">Read the briefing online</a> (PDF: <a href="{{ pdf_link }}">{{ filename }}</a>)</p>
{% endif %}{% if attached %}<p>The briefing is attached as a PDF ({{ filename }}).</p>
{% endif %}
</main>
<footer>
<p style="font-size: 0.9em; color: #444;">You receive this as a member of the list “{{ list.name }}”.
<a href="{{ unsubscribe }}">Unsubscribe</a>.</p>
</footer>
</body>
</html>
"""


@lru_cache(maxsize=1)
def _templates() -> tuple[jinja2.Template, jinja2.Template]:
    text_env = jinja2.Environment(autoescape=False, trim_blocks=True, keep_trailing_newline=True,
                                  undefined=jinja2.StrictUndefined)
    html_env = jinja2.Environment(autoescape=True, trim_blocks=True, undefined=jinja2.StrictUndefined)
    return text_env.from_string(_TEXT), html_env.from_string(_HTML)


def subject(edition: PublishedEdition, mailing: ListConfig) -> str:
    briefing = project.load().name + (" (brief edition)" if edition.kind == "brief" else "")
    return mailing.subject.format(briefing=briefing, title=edition.title, as_of=edition.as_of_text,
                                  as_of_iso=edition.as_of, edition=edition.kind,
                                  edition_id=edition.edition_id, list=mailing.name)


def message_id(edition: PublishedEdition, mailing: ListConfig, recipient: str, domain: str) -> str:
    key = "\n".join((edition.edition_id, edition.pdf_sha256, mailing.name, recipient.lower()))
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.{edition.edition_id}@{domain}>"


def list_id(mailing: ListConfig, settings: SmtpSettings) -> str:
    """RFC 2919: a phrase, then <label.namespace> under the sender's domain."""
    return f'"{project.load().name}: {mailing.name}" <{mailing.name}.briefing.{settings.from_domain}>'


def attachment_name(edition: PublishedEdition) -> str:
    return f"{project.load().slug}-{edition.edition_id}.pdf"


def build(edition: PublishedEdition, mailing: ListConfig, recipient: str, settings: SmtpSettings,
          *, date: float | None = None) -> EmailMessage:
    text_tpl, html_tpl = _templates()
    unsubscribe = mailing.unsubscribe or default_unsubscribe(settings, mailing.name)
    link = f"{mailing.link_base}{edition.edition_id}/briefing.html" if mailing.link_base else None
    pdf_link = f"{mailing.link_base}{edition.edition_id}/briefing.pdf" if mailing.link_base else None
    attached = mailing.attach == "pdf"
    heading = subject(edition, mailing)
    values = dict(e=edition, points=edition.key_points, list=mailing, heading=heading, link=link,
                  pdf_link=pdf_link, attached=attached, filename=attachment_name(edition),
                  unsubscribe=unsubscribe)

    msg = EmailMessage()
    msg["Subject"] = heading
    msg["From"] = settings.mail_from
    msg["To"] = recipient  # one recipient per message: nobody sees the others
    msg["Date"] = formatdate(date, localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(edition, mailing, recipient, settings.from_domain)
    msg["List-Id"] = list_id(mailing, settings)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a scheduled send
    msg["X-Briefing-Edition"] = edition.edition_id
    msg.set_content(text_tpl.render(values), charset="utf-8")
    msg.add_alternative(html_tpl.render(values), subtype="html", charset="utf-8")
    if attached:
        msg.add_attachment(edition.pdf_bytes, maintype="application", subtype="pdf",
                           filename=attachment_name(edition))
    return msg
