"""Measurement: evaluation, the tutorial baseline, benchmarks and tuning sweeps."""
