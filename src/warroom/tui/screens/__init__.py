"""Screens and dialogs: the incident screen, the incident picker and the modal forms."""
