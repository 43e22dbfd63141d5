"""Credentials and nothing else. Imports nothing from ``app``."""
