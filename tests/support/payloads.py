"""One valid house per model, the base every prediction test sends or varies.

Shared by the in-process and the stack tests, so both speak of the same house;
callers copy before changing a field (``{**V1_FEATURES, "lotsize": 0}``).
"""

from __future__ import annotations

from typing import Any

V1_FEATURES: dict[str, Any] = {
    "lotsize": 5850,
    "bedrooms": 3,
    "bathrms": 1,
    "stories": 2,
    "garagepl": 1,
}
"""The champion's five features."""

V2_FEATURES: dict[str, Any] = {
    **V1_FEATURES,
    "driveway": True,
    "recroom": False,
    "fullbase": True,
    "gashw": False,
    "airco": False,
    "prefarea": False,
}
"""The challenger's eleven: v1's plus six amenities."""
