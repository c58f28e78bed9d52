"""Reads for the leads' dashboard, one module per question."""
