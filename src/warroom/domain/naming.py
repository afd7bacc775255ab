"""Names derived from an incident: the `#incident-YYYY-MM-DD-slug` channel."""

import re
import unicodedata
from datetime import date

_MAX_SLUG = 40


def slugify(title: str) -> str:
    """Lower-case ASCII words joined by hyphens: "API outage (EU)!" -> "api-outage-eu"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(slug) > _MAX_SLUG:
        slug = slug[:_MAX_SLUG].rsplit("-", 1)[0] or slug[:_MAX_SLUG]
    return slug or "incident"


def channel_name(declared_on: date, title: str) -> str:
    """The incident's Slack channel, as in the plan: `#incident-2023-10-27-api-outage`."""
    return f"#incident-{declared_on.isoformat()}-{slugify(title)}"
