"""ARCHITECTURE.md's one-way flow, checked on the source: Discord event → cog (thin) → domain
service → repository → SQLite.

* a cog or view never imports a repository (``bot.db``) or the storage engine (``sqlite3``,
  ``aiosqlite``): it calls its capability's service;
* domain logic and services never import discord;
* a repository never words text: it imports neither the text helpers nor the domain's
  wording functions, nor a template engine;
* a file longer than 400 lines says why at its top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
#: Domain functions that word text for people (a repository must not call them).
WORDING = {
    "round_heading", "ballot_in_words", "collective_statement", "collective_statements",
    "round_summary", "describe_ballot", "reminder_text", "plural", "percent_text",
}  # fmt: skip


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module, names imported from it) for every import in the file."""
    tree = ast.parse(path.read_text("utf-8"))
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def _py(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_cogs_and_views_never_touch_repositories_or_the_storage_engine() -> None:
    bad = [
        f"{_rel(p)} imports {mod}"
        for p in _py("cogs")
        for mod, _ in _imports(p)
        if mod == "bot.db" or mod.startswith("bot.db.") or mod in ("sqlite3", "aiosqlite")
    ]
    assert bad == [], "\n".join(bad)


def test_domain_and_services_never_import_discord() -> None:
    bad = [
        f"{_rel(p)} imports {mod}"
        for folder in ("bot/domain", "bot/services")
        if (ROOT / folder).exists()
        for p in _py(folder)
        for mod, _ in _imports(p)
        if mod == "discord" or mod.startswith("discord.")
    ]
    assert bad == [], "\n".join(bad)


def test_repositories_never_word_text() -> None:
    bad = []
    for p in _py("bot/db"):
        for mod, names in _imports(p):
            if mod in ("bot.text", "jinja2") or mod.endswith("_render"):
                bad.append(f"{_rel(p)} imports {mod}")
            if names & WORDING:
                bad.append(f"{_rel(p)} imports wording {sorted(names & WORDING)} from {mod}")
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("folder", ["bot", "cogs"])
def test_long_files_say_why(folder: str) -> None:
    bad = []
    for p in _py(folder):
        lines = p.read_text("utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(
            "longer than 400 lines" in line for line in lines[:40]
        ):
            bad.append(f"{_rel(p)}: {len(lines)} lines and no reason at its top")
    assert bad == [], "\n".join(bad)


def test_the_checks_see_a_violation(tmp_path: Path) -> None:
    """The import scan itself: a file that imports a repository is caught."""
    probe = tmp_path / "probe.py"
    probe.write_text("from bot.db.polls import PollRepo\nimport discord.ui\n", "utf-8")
    assert [m for m, _ in _imports(probe)] == ["bot.db.polls", "discord.ui"]


def test_every_test_the_readme_names_exists() -> None:
    """The README's promises name the tests that prove them: those files must exist."""
    import re

    named = set(re.findall(r"`(tests/[\w/]+\.py)`", (ROOT / "README.md").read_text("utf-8")))
    assert named, "the README names no test"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == [], missing
