"""One valid house per model, the base every prediction test sends or varies.

They are the examples the wire schemas document (what /docs pre-fills and the
benchmark sends), so tests and documentation speak of the same house. Shared
by the in-process and the stack tests; callers copy before changing a field
(``{**V1_FEATURES, "lotsize": 0}``).
"""

from __future__ import annotations

from typing import Any

from app.predict.schemas import V1_EXAMPLE, V2_EXAMPLE

V1_FEATURES: dict[str, Any] = dict(V1_EXAMPLE)
"""The champion's five features."""

V2_FEATURES: dict[str, Any] = dict(V2_EXAMPLE)
"""The challenger's eleven: v1's plus six amenities."""
