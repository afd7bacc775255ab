"""Renders the post-mortem draft as one self-contained HTML page: inline CSS, no script."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.export.escape import show_controls
from warroom.export.postmortem.document import (
    Block,
    BulletList,
    Code,
    Document,
    Inline,
    Paragraph,
    Section,
    Style,
    Table,
)
from warroom.export.postmortem.sections import build_document

_TAGS = {
    Style.PLAIN: "",
    Style.STRONG: "strong",
    Style.EM: "em",
    Style.STRIKE: "del",
    Style.CODE: "code",
}

# The policy forbids every script and every outside fetch, so even a renderer bug could not make
# the page run code or call home.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; color: #1b1b1b; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; }
h1 { font-size: 1.7rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .5rem; overflow-x: auto; }
del { color: #8a1c1c; } em { color: #555; }
ul.tasks { list-style: none; padding-left: 1rem; }
"""


def render_html(
    state: IncidentState,
    events: list[Event],
    *,
    tz: tzinfo | None = None,
    generated_at: datetime,
) -> str:
    """The blameless post-mortem draft of an incident as a standalone HTML page.

    The arguments are those of `warroom.export.markdown.render_markdown`.
    """
    return document_html(build_document(state, events, tz=tz, generated_at=generated_at))


def document_html(document: Document) -> str:
    """Any post-mortem document as an HTML page."""
    title = _inline(document.title)
    # The window title is one line of plain text: no tags there, and line breaks would not show.
    plain_title = _text("".join(span.text for span in document.title).replace("\n", " "))
    body = "\n".join(
        [f"<h1>{title}</h1>", *(_block(b, 2) for b in document.header)]
        + [_block(s, 2) for s in document.sections]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        f"<title>{plain_title}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _text(text: str) -> str:
    return escape(show_controls(text)).replace("\n", "<br>")


def _inline(content: Inline) -> str:
    out = []
    for span in content:
        tag = _TAGS[span.style]
        out.append(f"<{tag}>{_text(span.text)}</{tag}>" if tag else _text(span.text))
    return "".join(out)


def _block(block: Block, level: int) -> str:
    match block:
        case Paragraph(content):
            return f"<p>{_inline(content)}</p>"
        case BulletList(items, tasks):
            box = '<input type="checkbox" disabled> ' if tasks else ""
            lis = "".join(f"<li>{box}{_inline(item)}</li>\n" for item in items)
            return f'<ul class="tasks">\n{lis}</ul>' if tasks else f"<ul>\n{lis}</ul>"
        case Table(header, rows):
            head = "".join(f"<th>{_text(h)}</th>" for h in header)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(cell)}</td>" for cell in row) + "</tr>\n"
                for row in rows
            )
            return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"
        case Code(text):
            code = escape(show_controls(text).strip("\n"))
            return f"<pre><code>{code}</code></pre>"
        case Section(title, blocks):
            heading = f"<h{min(level, 6)}>{_text(title)}</h{min(level, 6)}>"
            inner = "\n".join([heading, *(_block(b, level + 1) for b in blocks)])
            return f"<section>\n{inner}\n</section>"
