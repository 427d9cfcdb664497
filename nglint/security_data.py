"""The data security rules read: Mozilla's TLS guideline and nginx's security advisories.

Each file under ``nglint/data/`` records its source URL and retrieval date:
``tls.json`` (NG222, weak-tls) and ``advisories.json`` (NG224, known-cve).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """A data file of ``nglint.data`` as parsed JSON (``tls`` or ``advisories``)."""
    text = resources.files("nglint.data").joinpath(f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
