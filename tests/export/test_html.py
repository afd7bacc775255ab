"""The HTML post-mortem: the same document as the Markdown one, as a page with nothing external."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.export.html import render_html
from warroom.export.markdown import render_markdown

from .parsing import check_html, md_headings
from .scripted import CEST, T0, scripted_incident

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "section", "h1", "h2", "h3",
    "p", "ul", "li", "input", "table", "thead", "tbody", "tr", "th", "td", "pre", "code",
    "strong", "em", "del", "br",
}  # fmt: skip


@pytest.fixture(scope="module")
def incident() -> tuple[IncidentState, list[Event]]:
    return scripted_incident()


@pytest.fixture(scope="module")
def page(incident: tuple[IncidentState, list[Event]]) -> str:
    state, events = incident
    return render_html(state, events, tz=CEST, generated_at=T0 + timedelta(hours=2))


def test_page_is_well_formed_with_known_tags_only(page: str) -> None:
    parsed = check_html(page)
    assert parsed.errors == []
    assert parsed.stack == []
    assert set(parsed.tags) <= ALLOWED_TAGS
    assert page.startswith("<!DOCTYPE html>")


def test_page_is_self_contained(page: str) -> None:
    attrs = {name for name, _ in check_html(page).attrs}
    assert not attrs & {"href", "src", "srcset", "action", "style"}
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert "<script" not in page
    assert "url(" not in page


def test_headings_match_the_markdown(
    incident: tuple[IncidentState, list[Event]], page: str
) -> None:
    state, events = incident
    markdown = render_markdown(state, events, tz=CEST, generated_at=T0 + timedelta(hours=2))
    html_headings = [
        (int(level), text) for level, text in re.findall(r"<h([1-6])>(.*?)</h\1>", page)
    ]
    assert html_headings == md_headings(markdown)


def test_entries_show_their_history(page: str) -> None:
    assert "<td><del>DB failover started</del><br><em>Struck by dave at" in page
    assert ": posted in the wrong incident</td>" in page
    assert "<em>Amended by carol at 2024-05-01 14:11:00 UTC; earlier wording:</em>" in page
    assert "<td>15:50:00 CEST</td>" in page


def test_action_items_are_open_tasks_and_metrics_preformatted(page: str) -> None:
    assert '<ul class="tasks">\n<li><input type="checkbox" disabled> Add a canary stage' in page
    assert "<pre><code>service      p99    err%\napi-gateway  2.1s   54.2\n" in page
