"""Operational scripts, kept importable so the tests drive exactly what `make` runs."""
