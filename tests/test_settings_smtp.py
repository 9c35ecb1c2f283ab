"""HEARTH_SMTP_URL and HEARTH_SMTP_CA_FILE are refused at start with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

PASSWORD = "s3cret-pass"
ENV_VARS = (
    "DISCORD_TOKEN", "DISCORD_API_BASE", "HEARTH_DB", "HEARTH_CONFIG", "HEARTH_SMTP_URL",
    "HEARTH_SMTP_FROM", "HEARTH_SMTP_CA_FILE", "HEARTH_LOG_LEVEL",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "t")


def error_for(**env: str) -> str:
    with pytest.raises(SettingsError) as err:
        load_settings(**env)
    text = str(err.value)
    assert "\n" not in text and PASSWORD not in text
    return text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example?tls=off", "HEARTH_SMTP_URL ?tls= must be starttls"),
        ("smtp://mail.example?tls=none&tls=none", "HEARTH_SMTP_URL ?tls= must be starttls"),
        ("smtp://mail.example?insecure=1", "HEARTH_SMTP_URL has an unknown parameter ?insecure="),
        ("smtps://mail.example?tls=none", "HEARTH_SMTP_URL takes no ?tls= with smtps://"),
        (f"smtp://u:{PASSWORD}@relay?tls=none", "HEARTH_SMTP_URL with ?tls=none takes no user"),
        (f"smtp://u:{PASSWORD}@mail.example:99999", "HEARTH_SMTP_URL has an invalid port"),
        ("http://mail.example", "HEARTH_SMTP_URL must look like smtp://"),
    ],
)
def test_bad_smtp_urls_are_refused(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("HEARTH_SMTP_URL", url)
    assert error_for().startswith(expected)


@pytest.mark.parametrize(
    "url",
    [
        f"smtp://u:{PASSWORD}@mail.example:587",
        f"smtp://u:{PASSWORD}@mail.example?tls=starttls",
        f"smtps://u:{PASSWORD}@mail.example",
        "smtp://localhost:25?tls=none",
    ],
)
def test_good_smtp_urls(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("HEARTH_SMTP_URL", url)
    s = load_settings()
    assert s.hearth_smtp_url is not None and PASSWORD not in repr(s)


def test_ca_file_must_exist_and_hold_pem_certificates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_settings().hearth_smtp_ca_file is None
    monkeypatch.setenv("HEARTH_SMTP_CA_FILE", "")
    assert load_settings().hearth_smtp_ca_file is None
    monkeypatch.setenv("HEARTH_SMTP_CA_FILE", str(tmp_path / "missing.pem"))
    assert error_for() == f"HEARTH_SMTP_CA_FILE {tmp_path / 'missing.pem'} is not a file"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    monkeypatch.setenv("HEARTH_SMTP_CA_FILE", str(junk))
    assert error_for() == f"HEARTH_SMTP_CA_FILE {junk} holds no CA certificate in PEM form"
