"""docker-compose.yml: the cluster it describes is one Hearth would accept and run whole.

No Docker in CI, so the file is checked the way Hearth reads it: every process's settings
validate, their shard ranges tile every shard exactly once (a gap would leave communities
with no process; an overlap would run their jobs twice were it not for the database's
claims), all share one database and one installation secret, and the image is the
Dockerfile's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.sharding import parse_shards

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _hearth_services(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in data["services"].items()
        if "HEARTH_SHARDS" in (svc.get("environment") or {})
    }


def test_shard_ranges_tile_every_shard_once() -> None:
    services = _hearth_services(_compose())
    assert len(services) >= 2, "the cluster example runs at least two processes"
    ranges = [parse_shards(str(svc["environment"]["HEARTH_SHARDS"])) for svc in services.values()]
    counts = {r.count for r in ranges}
    assert len(counts) == 1, f"every process must agree on the shard count: {counts}"
    owned = sorted(i for r in ranges for i in r.ids)
    assert owned == list(range(counts.pop())), f"gaps or overlaps: {owned}"


def test_processes_share_database_secret_and_image() -> None:
    data = _compose()
    services = _hearth_services(data)
    envs = [svc["environment"] for svc in services.values()]
    assert len({e["HEARTH_DB"] for e in envs}) == 1
    assert all(e["HEARTH_DB"].startswith("postgresql://") for e in envs)
    assert len({e["HEARTH_SECRET"] for e in envs}) == 1
    assert all(svc["build"] == "." for svc in services.values())
    assert data["services"]["db"]["image"].startswith("postgres:")


def test_settings_of_each_process_validate(monkeypatch: Any) -> None:
    from bot.settings import Settings

    for svc in _hearth_services(_compose()).values():
        # what the operator's shell fills in for ${...}
        env = {k: str(v) for k, v in svc["environment"].items() if not str(v).startswith("${")}
        env["HEARTH_DB"] = env["HEARTH_DB"].replace("${POSTGRES_PASSWORD}", "password")
        env.update(DISCORD_TOKEN="token", HEARTH_SECRET="ab" * 32)
        s = Settings.model_validate(env)
        assert s.database_file is None and s.hearth_shards is not None
