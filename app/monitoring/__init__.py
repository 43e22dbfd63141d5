"""Watching the models in service: drift of live traffic, and what the metrics say about it."""
