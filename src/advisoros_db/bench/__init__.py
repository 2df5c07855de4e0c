"""Benchmarks: optimized schema versus a naive baseline, side by side in one run."""
