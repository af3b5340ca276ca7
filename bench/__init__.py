"""Benchmarks and the scale seed: run from a checkout, never shipped in the wheel."""
