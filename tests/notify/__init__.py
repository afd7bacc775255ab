"""Tests for outbound notifications against a real local HTTP server."""
