"""Exporters: an incident as a post-mortem draft (Markdown, HTML) or as its raw event log (JSON)."""
