"""Renders the public status document as JSON and as one static HTML page with no script."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from warroom.domain.communications import PublicState
from warroom.domain.instants import as_stored, in_zone
from warroom.export.escape import show_controls
from warroom.status_page.model import OverallStatus, PublicIncident, PublicStatus, PublicUpdate

DEFAULT_TITLE = "Service status"

# Everything is inline and nothing may load or run: even if text slipped past escaping, the
# browser would refuse to execute it or fetch anything from elsewhere.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_BANNERS = {
    OverallStatus.OPERATIONAL: "All systems operational",
    OverallStatus.DEGRADED: "Some systems are degraded",
    OverallStatus.MAJOR_OUTAGE: "Major outage",
}

_STATE_LABELS = {
    PublicState.INVESTIGATING: "Investigating",
    PublicState.IDENTIFIED: "Identified",
    PublicState.MONITORING: "Monitoring",
    PublicState.RESOLVED: "Resolved",
}

_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; background: #fafafa;
       margin: 2rem auto; max-width: 48rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .5rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 0 0 .25rem; }
.banner { padding: .75rem 1rem; border-radius: .4rem; color: #fff; font-weight: 600; }
.banner.operational { background: #2e7d32; } .banner.degraded { background: #b26a00; }
.banner.major_outage { background: #b71c1c; }
.generated, .components, time { color: #555; font-size: .9rem; }
.incident { background: #fff; border: 1px solid #ddd; border-radius: .4rem; padding: 1rem;
            margin: 1rem 0; }
.updates { list-style: none; padding: 0; margin: .5rem 0 0; }
.updates li { border-top: 1px solid #eee; padding: .5rem 0; }
.state { font-weight: 600; margin-right: .5rem; }
.text { white-space: pre-line; overflow-wrap: anywhere; margin: .25rem 0 0; }
"""


def render_json(status: PublicStatus) -> str:
    """The document as served at `/status` as JSON and written as `status.json`."""
    return status.model_dump_json(indent=2) + "\n"


def render_html(status: PublicStatus, *, title: str = DEFAULT_TITLE) -> str:
    """The document as a self-contained page: inline CSS, no script, no outside resources.

    Every piece of user text is escaped, with control characters (terminal escapes, bidi
    overrides) turned into visible stand-ins first.
    """
    active = [i for i in status.incidents if i.active]
    past = [i for i in status.incidents if not i.active]
    sections = [
        _section("Active incidents", active, "No active incidents."),
        _section("Past incidents", past, "No past incidents.") if past else "",
    ]
    body = "\n".join(
        [
            f"<header>\n<h1>{_text(title)}</h1>",
            f'<p class="banner {status.status.value}">{_BANNERS[status.status]}</p>',
            f'<p class="generated">Last updated {_time(status.generated_at)}</p>\n</header>',
            *(s for s in sections if s),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _section(heading: str, incidents: list[PublicIncident], empty: str) -> str:
    inner = "\n".join(_incident(i) for i in incidents) if incidents else f"<p>{empty}</p>"
    return f"<section>\n<h2>{heading}</h2>\n{inner}\n</section>"


def _incident(incident: PublicIncident) -> str:
    lines = [
        '<article class="incident">',
        f"<h3>{_text(incident.title)}</h3>",
        f'<p><span class="state">{_STATE_LABELS[incident.state]}</span></p>',
    ]
    if incident.components:
        lines.append(f'<p class="components">Affected: {_components(incident.components)}</p>')
    lines.append('<ol class="updates">')
    lines.extend(_update(u) for u in incident.updates)
    lines.append("</ol>\n</article>")
    return "\n".join(lines)


def _update(update: PublicUpdate) -> str:
    return (
        f'<li><span class="state">{_STATE_LABELS[update.state]}</span>'
        f"{_time(update.published_at)}"
        f'<p class="text">{_text(update.text)}</p></li>'
    )


def _components(components: list[str]) -> str:
    return ", ".join(_text(c) for c in components)


def _time(at: datetime) -> str:
    # A naive time is taken as UTC, the server's clock; the page always shows UTC.
    utc = in_zone(at, UTC)
    if utc is None:
        # Out of range: shown as stored, with no machine-readable datetime to mislead a reader.
        return f"<time>{_text(as_stored(at))}</time>"
    shown = utc.replace(tzinfo=None).isoformat(" ", "minutes")
    return f'<time datetime="{utc.isoformat()}">{shown} UTC</time>'


def _text(text: str) -> str:
    return escape(show_controls(text), quote=True)
