"""The wire protocol: JSON frames over websockets, defined once as pydantic models."""
