"""Housing Price API: the HTTP service."""
