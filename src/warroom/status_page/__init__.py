"""warroom's own public status page: only IC-approved updates, as JSON and as static HTML.

`build_public_status` derives the document from incident states, `render_json` and `render_html`
turn it into what `/status` serves, and `write_status_folder` publishes both files to a folder.
"""

from warroom.status_page.folder import HTML_NAME, JSON_NAME, write_status_folder
from warroom.status_page.model import (
    OverallStatus,
    PublicIncident,
    PublicStatus,
    PublicUpdate,
    build_public_status,
    public_incident,
)
from warroom.status_page.render import DEFAULT_TITLE, render_html, render_json

__all__ = [
    "DEFAULT_TITLE",
    "HTML_NAME",
    "JSON_NAME",
    "OverallStatus",
    "PublicIncident",
    "PublicStatus",
    "PublicUpdate",
    "build_public_status",
    "public_incident",
    "render_html",
    "render_json",
    "write_status_folder",
]
