"""Tests for warroom.monitoring against real Prometheus and Alertmanager processes."""
