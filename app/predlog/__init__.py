"""The prediction log: what every prediction saw and answered, kept for drift and audit."""
