"""The e2e core flows that run on PostgreSQL too are named in tests/e2e/conftest.py: a test
renamed or removed must not silently drop out of the second engine."""

from __future__ import annotations

import importlib

from tests.e2e.conftest import CORE_FLOWS


def test_every_core_flow_named_exists() -> None:
    missing = [
        f"{module}::{name}"
        for module, names in CORE_FLOWS.items()
        for name in sorted(names or ())
        if not hasattr(importlib.import_module(f"tests.e2e.{module}"), name)
    ]
    assert missing == []
    assert len(CORE_FLOWS) >= 13  # one entry per capability at least
