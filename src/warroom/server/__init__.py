"""The shared websocket server: authentication, sequencing of writes, fan-out to consoles."""
