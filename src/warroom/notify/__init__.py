"""Outbound notifications: PagerDuty pages and Slack messages, sent with retries that never raise.

Each sender takes an injected `httpx.AsyncClient` and returns a `DeliveryOutcome`; the caller
(the server) decides what a failed delivery means for the incident, e.g. a system timeline entry.
"""
