"""The caller's own account: ``POST /account/password``."""
