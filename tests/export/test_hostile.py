"""Hostile user text in titles, entries, reasons, tags and names leaves the structure alone."""

from __future__ import annotations

import re

import pytest

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.export.escape import BIDI_CONTROLS, show_controls
from warroom.export.html import render_html
from warroom.export.markdown import render_markdown

from .parsing import check_html, inline_children, lines_outside_fences, md_headings, md_tokens
from .scripted import EXPECTED_HEADINGS, HOSTILE, METRICS_TABLE, T0, scripted_incident, with_entry

MOMENTS = ("Start", "Detected", "Declared", "Mitigated", "Resolved")

Incident = tuple[IncidentState, list[Event]]
GENERATED = T0.replace(hour=16)
_CONTROLS = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


@pytest.fixture(scope="module")
def benign() -> Incident:
    return with_entry(scripted_incident(), "mallory", "plain words")


@pytest.fixture(scope="module")
def hostile() -> Incident:
    incident = scripted_incident(lambda text: f"{text} {HOSTILE}", extra_tag=HOSTILE)
    return with_entry(incident, HOSTILE, HOSTILE)


def markdown_of(incident: Incident) -> str:
    state, events = incident
    return render_markdown(state, events, tz=None, generated_at=GENERATED)


def html_of(incident: Incident) -> str:
    state, events = incident
    return render_html(state, events, tz=None, generated_at=GENERATED)


def test_headings_are_exactly_the_templates(hostile: Incident) -> None:
    markdown = markdown_of(hostile)
    headings = md_headings(markdown)
    assert headings[0][0] == 1
    assert headings[0][1].startswith("Post-mortem: Payments failing # Heading \\| a \\| b")
    assert headings[1:] == EXPECTED_HEADINGS[1:]
    starts = [line for line in lines_outside_fences(markdown) if line.startswith("#")]
    assert [line.split(" ", 1)[1] for line in starts[1:]] == [t for _, t in EXPECTED_HEADINGS[1:]]
    assert len(starts) == len(EXPECTED_HEADINGS)


def test_document_structure_matches_a_harmless_one(benign: Incident, hostile: Incident) -> None:
    """Same blocks, lists, tables and emphasis; user text only adds line breaks."""
    hostile_md, benign_md = markdown_of(hostile), markdown_of(benign)
    assert [t.type for t in md_tokens(hostile_md)] == [t.type for t in md_tokens(benign_md)]

    def marks(markdown: str) -> list[str]:
        text_like = {"text", "softbreak", "hardbreak", "html_inline"}
        return [c.type for c in inline_children(markdown) if c.type not in text_like]

    assert marks(hostile_md) == marks(benign_md)


def test_table_rows_keep_their_cell_count(hostile: Incident) -> None:
    tables: list[list[int]] = []
    previous = ""
    for line in lines_outside_fences(markdown_of(hostile)):
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(re.sub(r"\\.", "", line).count("|"))  # escaped pipes are text
        previous = line
    # Key times, key moments, roles, phases, timeline and mitigation: one more pipe than
    # columns on every row.
    assert [set(widths) for widths in tables] == [{4}, {6}, {6}, {5}, {8}, {5}]
    state = hostile[0]
    rows = [
        len(MOMENTS),
        len(tables[1]) - 2,  # key moments: its own tests count them
        len(state.roster.history),
        len(state.phase_history),
        len(state.timeline),
        len(state.checklist),
    ]
    assert [len(widths) for widths in tables] == [n + 2 for n in rows]  # plus header and rule


def test_no_markup_html_or_control_codes_get_through(hostile: Incident) -> None:
    markdown = markdown_of(hostile)
    outside = "\n".join(lines_outside_fences(markdown))
    # Every "<" of user text is escaped: the only unescaped one opens the renderer's own <br>.
    assert re.findall(r"(?<!\\)<\w*", outside.replace("\\\\", "")) == ["<br"] * outside.count(
        "<br>"
    )
    assert not re.search(r"(?<!\\)&(lt|gt|amp);", outside), "Markdown escapes, not entities"
    assert not _CONTROLS.search(markdown)
    html_inline = {c.content for c in inline_children(markdown) if c.type == "html_inline"}
    assert html_inline == {"<br>"}
    kinds = {c.type for c in inline_children(markdown)}
    assert not kinds & {"link_open", "image"}
    # The only code spans are warroom's own replay commands, never user text.
    spans = [c.content for c in inline_children(markdown) if c.type == "code_inline"]
    assert spans
    assert all(re.fullmatch(r"warroom replay 7 --at \d+", span) for span in spans), spans
    blocks = {t.type for t in md_tokens(markdown)}
    assert not blocks & {"html_block", "blockquote_open", "ordered_list_open", "hr", "code_block"}


def test_metrics_stay_inside_their_fence(hostile: Incident) -> None:
    fences = [t for t in md_tokens(markdown_of(hostile)) if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].info == "text"
    assert fences[0].content == show_controls(f"{METRICS_TABLE} {HOSTILE}") + "\n"


def test_html_is_balanced_and_carries_no_user_markup(hostile: Incident) -> None:
    page = html_of(hostile)
    assert "<script" not in page
    assert not _CONTROLS.search(page)
    parsed = check_html(page)
    assert parsed.errors == []
    assert parsed.stack == []
    assert "script" not in parsed.tags
    assert {name for name, _ in parsed.attrs} <= {
        "lang",
        "charset",
        "http-equiv",
        "content",
        "class",
        "type",
        "disabled",
    }
    # The text is all there, shown as text.
    text = "".join(parsed.text)
    assert "<script>alert(1)</script> [red]x[/red] \u241b[31mred" in text


def test_html_structure_matches_a_harmless_one(benign: Incident, hostile: Incident) -> None:
    def tags(page: str) -> list[str]:
        return [tag for tag in check_html(page).tags if tag != "br"]

    assert tags(html_of(hostile)) == tags(html_of(benign))
