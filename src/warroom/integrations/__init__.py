"""Server-side reactions to committed events: paging, Slack, the status page, reminders.

Each integration observes the hub's committed events, does its outbound work in its own task,
and writes the outcome back to the incident's timeline, so nothing is ever silently dropped.
"""
