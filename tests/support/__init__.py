"""Test helpers shared across test packages: real local servers and recorders."""
