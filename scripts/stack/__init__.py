"""The production stack as local processes: nginx (TLS) → Gunicorn/Uvicorn → Redis.

``python -m scripts.stack up|down|status`` (``make stack`` / ``make stack-down``).
Everything lives under ``$STATE_DIR``: ``tls/`` (the development CA clients
trust, ``ca.pem``), ``stack.env`` (generated development secrets), ``run/``
(pid files, ``stack.json``), ``log/``, ``redis/`` (AOF), ``nginx/``.
"""

from scripts.stack.config import StackConfig
from scripts.stack.orchestrate import StackError, StackInfo, down, status, up

__all__ = ["StackConfig", "StackError", "StackInfo", "down", "status", "up"]
