"""Plain ASGI middleware."""
