"""Benchmarks of this SDK against bare-library floors and the official Pusher libraries.

Run ``.venv/bin/python -m bench`` (add ``--quick`` for a short run). See
docs/benchmarks.md for the workloads, the latest table and how to read it.
"""
