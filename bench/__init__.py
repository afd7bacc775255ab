"""Load and latency benchmarks for warroom against a bare broadcast floor and a Yjs peer."""
