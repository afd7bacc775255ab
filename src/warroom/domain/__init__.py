"""The incident domain: pydantic models, events and the rules that turn commands into events.

Nothing here does I/O. The server, the client, the TUI and the exporters all speak these types.
"""
