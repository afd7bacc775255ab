"""The panes of the incident screen, one module per area of the screen."""
