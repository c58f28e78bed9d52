"""Reproducible benchmarks, run against a dedicated PostgreSQL database.

Each module is runnable with ``.venv/bin/python -m bench.<name>``; results and
the commands that reproduce them are recorded in BENCHMARKS.md.
"""
