"""Reads Prometheus and Alertmanager for detection and investigation, without any UI.

The server polls these clients and sends their typed results to consoles:
`prometheus` answers PromQL, `alertmanager` lists alert groups, `signals` turns per-service
PromQL templates into a JSON-ready `MetricsSnapshot`, and `poller` paces it all without overlap.
"""
