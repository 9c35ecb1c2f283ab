"""Settings from the environment and the validated TOML configuration."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.settings import HearthConfig, SettingsError, load_config, load_settings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "bot" / "defaults" / "hearth.toml"
ENV_VARS = (
    "DISCORD_TOKEN", "DISCORD_API_BASE", "HEARTH_DB", "HEARTH_CONFIG", "HEARTH_SMTP_URL",
    "HEARTH_SMTP_FROM", "HEARTH_LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No inherited settings, and a cwd without a .env file."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def one_line_error(**env: str) -> str:
    with pytest.raises(SettingsError) as err:
        load_settings(**env)
    text = str(err.value)
    assert "\n" not in text
    return text


def test_missing_token_is_one_line_naming_it() -> None:
    text = one_line_error()
    assert text.startswith("DISCORD_TOKEN is not set")
    assert ".env" in text


def test_blank_token_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "   ")
    assert one_line_error() == "DISCORD_TOKEN must not be empty"


def test_token_only_gives_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    s = load_settings()
    assert s.discord_token.get_secret_value() == "secret-token"
    assert "secret-token" not in repr(s)
    assert s.discord_api_base is None
    assert s.hearth_db == "data/hearth.db"
    assert s.database_file == Path("data/hearth.db")
    assert s.hearth_config is None  # the defaults shipped inside the package
    assert s.hearth_smtp_url is None
    assert s.hearth_log_level == "INFO"


def test_token_from_dotenv_in_cwd(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=from-dotenv\nHEARTH_LOG_LEVEL=debug\n")
    s = load_settings()
    assert s.discord_token.get_secret_value() == "from-dotenv"
    assert s.hearth_log_level == "DEBUG"


@pytest.mark.parametrize(
    "base", ["ftp://proxy.example", "proxy.example/api", "http://", "not a url"]
)
def test_bad_api_base(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("DISCORD_API_BASE", base)
    text = one_line_error()
    assert text.startswith("DISCORD_API_BASE must be an http(s) URL"), text


def test_api_base_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("DISCORD_API_BASE", " http://127.0.0.1:8080/api/v10/ ")
    assert load_settings().discord_api_base == "http://127.0.0.1:8080/api/v10"
    monkeypatch.setenv("DISCORD_API_BASE", "")
    assert load_settings().discord_api_base is None


def test_bad_log_level_and_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("HEARTH_LOG_LEVEL", "loud")
    assert one_line_error().startswith("HEARTH_LOG_LEVEL must be one of DEBUG")
    monkeypatch.setenv("HEARTH_LOG_LEVEL", "warning")
    monkeypatch.setenv("HEARTH_SMTP_URL", "http://mail.example")
    assert one_line_error().startswith("HEARTH_SMTP_URL must look like smtp://")
    monkeypatch.setenv("HEARTH_SMTP_URL", "smtp://user:pass@mail.example:587")
    s = load_settings()
    assert s.hearth_log_level == "WARNING"
    assert s.hearth_smtp_url is not None and "pass" not in repr(s)


def test_several_problems_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_API_BASE", "ftp://x")
    text = one_line_error()
    assert "DISCORD_TOKEN" in text and "DISCORD_API_BASE" in text


# ---------------------------------------------------------------------------- config


def test_shipped_config_validates() -> None:
    config = load_config(SHIPPED)
    assert isinstance(config, HearthConfig)
    assert len(config.stories.stages) == 10
    assert all(len(s.label) <= 20 for s in config.stories.stages)  # Discord forum tag limit
    assert config.stories.prompts
    assert sorted(config.meetings.months) == config.meetings.months
    assert "{community}" in config.induction.text
    assert config.glossary


def shipped_raw() -> dict[str, Any]:
    return tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def write_toml(path: Path, data: dict[str, Any]) -> Path:
    """A tiny TOML writer for the shapes in hearth.toml (tables of scalars, lists, dicts)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    def key(k: str) -> str:
        return k if k.replace("_", "").replace("-", "").isalnum() else value(k)

    lines = []
    for table, body in data.items():
        if isinstance(body, dict):
            lines.append(f"[{key(table)}]")
            lines += [f"{key(k)} = {value(v)}" for k, v in body.items()]
        else:
            lines.insert(0, f"{key(table)} = {value(body)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert tomllib.loads(path.read_text(encoding="utf-8")) == data
    return path


def config_error(tmp_path: Path, raw: dict[str, Any]) -> str:
    path = write_toml(tmp_path / "bad.toml", raw)
    with pytest.raises(SettingsError) as err:
        load_config(path)
    text = str(err.value)
    assert "\n" not in text and str(path) in text
    return text


def test_round_trip_of_shipped_config(tmp_path: Path) -> None:
    assert load_config(write_toml(tmp_path / "same.toml", shipped_raw())) == load_config(SHIPPED)


@pytest.mark.parametrize(
    ("section", "key", "bad", "expected"),
    [
        ("meetings", "months", [3, 13], "meetings.months[2]: "),
        ("meetings", "months", [3, 3], "meetings.months: months must be distinct"),
        ("meetings", "months", [3], "meetings.months"),
        ("meetings", "weekday", "funday", "meetings.weekday: must be a weekday name"),
        ("meetings", "time", "25:00", "meetings.time: must be a time of day"),
        ("community", "timezone", "Mars/Olympus", "community.timezone"),
        ("stories", "default_cadence", "daily", "stories.default_cadence"),
        ("stories", "prompts", [], "stories.prompts"),
        ("induction", "text", "", "induction.text"),
    ],
)
def test_bad_value_names_the_key(
    tmp_path: Path, section: str, key: str, bad: Any, expected: str
) -> None:
    raw = shipped_raw()
    raw[section][key] = bad
    text = config_error(tmp_path, raw)
    assert expected in text, text
    assert "Value error," not in text


def test_stage_label_over_forum_tag_limit(tmp_path: Path) -> None:
    raw = shipped_raw()
    raw["stories"]["stages"][2] = {"slug": "diagnosis", "label": "x" * 21}
    # The third stage, counted as people count (pydantic says .2).
    assert "stories.stages[3].label: " in config_error(tmp_path, raw)


def test_ninth_stage_is_position_nine(tmp_path: Path) -> None:
    raw = shipped_raw()
    raw["stories"]["stages"][8]["label"] = ""
    text = config_error(tmp_path, raw)
    assert "stories.stages[9].label: " in text and ".8." not in text


def test_mistyped_placeholder_in_welcome_text_is_refused(tmp_path: Path) -> None:
    raw = shipped_raw()
    raw["induction"]["text"] = raw["induction"]["text"].replace("{facilitator}", "{facilitatr}")
    text = config_error(tmp_path, raw)
    assert "induction.text: has an unknown placeholder {facilitatr}" in text
    assert "did you mean {facilitator}?" in text
    assert "{community}, {facilitator}" in text


def test_welcome_text_with_known_placeholders_only_loads(tmp_path: Path) -> None:
    raw = shipped_raw()
    raw["induction"]["text"] = "Welcome to {community}; {facilitator} runs it. {community}!"
    assert load_config(write_toml(tmp_path / "ok.toml", raw)).induction.text.startswith("Welcome")


def test_shipped_defaults_load_without_a_path_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config/ here: the defaults come from inside the package
    assert load_config() == load_config(SHIPPED)
    assert load_config(None).stories.stages[0].slug == "symptoms"


def test_unknown_keys_are_reported(tmp_path: Path) -> None:
    raw = shipped_raw()
    raw["meetings"]["monthz"] = [3, 9]
    raw["extras"] = {"x": 1}
    text = config_error(tmp_path, raw)
    assert "meetings.monthz: unknown key" in text
    assert "extras: unknown key" in text


def test_missing_section_is_reported(tmp_path: Path) -> None:
    raw = shipped_raw()
    del raw["induction"]
    assert "induction: Field required" in config_error(tmp_path, raw)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"not found .*HEARTH_CONFIG"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[meetings\nmonths = [3, 9]\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_config(broken)


def test_postgres_url_kept_whole_and_its_password_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    monkeypatch.setenv("HEARTH_DB", "postgresql://hearth:hunter2@db.internal:5432/hearth")
    s = load_settings()
    assert s.hearth_db == "postgresql://hearth:hunter2@db.internal:5432/hearth"
    assert s.database_file is None
    assert s.database_label() == "postgresql://hearth:***@db.internal:5432/hearth"
    assert "hunter2" not in repr(s)
    assert type(s.open_database()).__name__ == "PostgresDatabase"
