"""More Markdown an attacker would try in every text field of a post-mortem (reference-link
definitions, other fences, indented code, HTML comments and blocks, entities, autolinks, setext
underlines, footnotes, look-alike characters): none of it becomes structure of the document."""

from __future__ import annotations

import re

import pytest

from .parsing import inline_children, md_headings, md_tokens
from .scripted import EXPECTED_HEADINGS, scripted_incident, with_entry
from .test_hostile import markdown_of

VARIANTS = {
    "reference link": 'x\n[evil]: http://evil.example "t"\n[evil] [evil][]',
    "image reference": "![x][evil]\n\n[evil]: javascript:alert(1)",
    "tilde fence": "x\n~~~\nfenced\n~~~",
    "backtick runs": "``` `` ` x ````",
    "indented code": "x\n\n    indented code\n",
    "html comment": "<!-- hidden --> x",
    "html block": "\n<div onclick=x>\nhi\n</div>\n",
    "entities": "&#60;script&#62; &#x3C;b&#x3E; &copy;",
    "autolinks": "<http://evil.example> <mailto:a@b>",
    "setext": "title\n===\nmore\n---",
    "footnote": "[^1]\n\n[^1]: note",
    "look-alikes": "\u00a0# not a heading \uff03 \uff1cscript\uff1e",
}


@pytest.mark.parametrize("text", VARIANTS.values(), ids=list(VARIANTS))
def test_hostile_markdown_in_every_field_leaves_the_document_alone(text: str) -> None:
    incident = scripted_incident(lambda words: f"{words} {text}", extra_tag="tag")
    markdown = markdown_of(with_entry(incident, text, text))
    headings = md_headings(markdown)
    # The title heading carries the hostile title, as text; every other heading is warroom's.
    assert headings[0][0] == 1
    assert headings[0][1].startswith("Post-mortem: Payments failing")
    assert headings[1:] == EXPECTED_HEADINGS[1:]
    inline = inline_children(markdown)
    assert not {c.type for c in inline} & {"link_open", "image"}
    assert {c.content for c in inline if c.type == "html_inline"} <= {"<br>"}
    spans = [c.content for c in inline if c.type == "code_inline"]
    assert all(re.fullmatch(r"warroom replay 7 --at \d+", span) for span in spans), spans
    blocks = [t.type for t in md_tokens(markdown)]
    assert blocks.count("fence") == 1  # the metrics' own
    assert not set(blocks) & {"html_block", "code_block", "blockquote_open", "hr"}
