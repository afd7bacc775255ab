"""Persistence of the event log and users, behind the narrow `EventStore` interface."""
