"""Benchmarks that print figures (not timed tests): see benchmarks/RESULTS.md."""
