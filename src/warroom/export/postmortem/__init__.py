"""The post-mortem draft as a document model, built from an incident's state for the Markdown and
HTML renderers in `warroom.export.markdown` and `warroom.export.html`."""
