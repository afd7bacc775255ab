"""Tests of the Textual war-room console against a real server."""
