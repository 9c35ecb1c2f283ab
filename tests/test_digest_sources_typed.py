"""Every digest section has a typed source, wired by import (no lookup by name)."""

from __future__ import annotations

import ast
import inspect
from dataclasses import fields
from pathlib import Path

from bot.domain.digest import Digest
from bot.services import digest_sources
from bot.services.digest_sources import DigestSources, default_sources

ROOT = Path(__file__).resolve().parents[1]


def test_every_section_of_the_digest_has_a_source() -> None:
    sections = DigestSources.sections()
    digest_fields = {f.name for f in fields(Digest)}
    assert set(sections) <= digest_fields, "a source must be named as the Digest field it fills"
    assert set(sections) == {
        "stories", "poll_outcomes", "open_polls", "upcoming_meetings", "held_meetings",
        "products", "changes",
    }  # fmt: skip
    sources = default_sources()
    assert sources.missing() == []
    for name in sections:
        fn = getattr(sources, name)
        assert inspect.iscoroutinefunction(fn), name


def test_sources_are_never_looked_up_by_name() -> None:
    """The old ``importlib`` + ``getattr(module, "name")`` lookup dropped a section silently
    when a function was renamed; nothing in the digest capability may do that again."""
    files = [
        Path(digest_sources.__file__),
        ROOT / "bot" / "services" / "digests.py",
        *sorted((ROOT / "cogs" / "digests").glob("*.py")),
    ]
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                assert name != "import_module", path
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr":
                arg = node.args[0] if node.args else None
                assert not (isinstance(arg, ast.Name) and arg.id in ("mod", "module")), path


def test_domain_service_does_not_import_discord() -> None:
    for path in (Path(digest_sources.__file__), ROOT / "bot" / "services" / "digests.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(not a.name.startswith("discord") for a in node.names), path
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("discord"), path
