"""The client's base error, apart from the session: the command line catches it without
importing the websocket client (`warroom serve` never needs it)."""


class ClientError(Exception):
    """Something a person using the client should be told about, in one line."""
