"""Typed settings (environment / ``.env``) and the validated TOML configuration.

Why two layers: secrets and deployment facts (token, database path, SMTP URL) come from
the environment, as twelve-factor deployments expect; the community-facing defaults
(story stages, prompts, glossary, meeting months, digest timing, induction text) are
product content, versioned with the bot in ``config/hearth.toml``. Both are validated
before anything starts, so the bot never runs half-configured.

This file is longer than 400 lines because it holds both layers and the validators they
share (weekday, time of day and timezone read by the same readers as the commands), so a
reader sees in one place everything Hearth reads before it starts.
"""

from __future__ import annotations

import logging
import re
import ssl
import tomllib
from dataclasses import dataclass, field
from datetime import time as TimeOfDay
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import HearthError
from bot.sharding import SHAPE_HELP as SHARDS_HELP
from bot.sharding import ShardRange, parse_shards

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DISCIPLINES = ("gp", "nurse", "patient", "carer", "other")
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


if TYPE_CHECKING:
    from bot.db.database import Database

class SettingsError(Exception):
    """Raised with a one-line, human explanation of what to fix."""


SmtpSecurity = Literal["tls", "starttls", "none"]
_SMTP_SHAPE = "must look like smtp://user:pass@host:587 or smtps://user:pass@host:465"


@dataclass(frozen=True)
class SmtpEndpoint:
    """``HEARTH_SMTP_URL`` read once, the same way by settings (to refuse it early) and mail.

    ``security``: ``tls`` for ``smtps://`` (TLS from the first byte, port 465 by default);
    ``starttls`` for ``smtp://`` (the connection must be upgraded before anything else is
    sent, port 587); ``none`` only when asked with ``smtp://host?tls=none`` (port 25), for a
    relay on the same machine or private network: everything, the digest included, then
    travels in clear, so it takes no user name or password.
    """

    hostname: str
    port: int
    security: SmtpSecurity
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """Raises ``ValueError`` with a sentence that never repeats the URL (it holds a password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(_SMTP_SHAPE)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"has an invalid port; it {_SMTP_SHAPE}") from None
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"tls"})
    if unknown:
        raise ValueError(
            f"has an unknown parameter ?{unknown[0]}= (the only one is ?tls=none, "
            "for a local relay without TLS)"
        )
    tls = query.get("tls", [])
    security: SmtpSecurity
    if parts.scheme == "smtps":
        if tls:
            raise ValueError("takes no ?tls= with smtps://, which is always TLS")
        security = "tls"
    elif tls in ([], ["starttls"]):
        security = "starttls"
    elif tls == ["none"]:
        security = "none"
        if parts.username or parts.password:
            raise ValueError(
                "with ?tls=none takes no user:password (they would travel in clear); "
                "a local relay needs none, any other server needs TLS"
            )
    else:
        raise ValueError(
            "?tls= must be starttls (the default for smtp://) or none (a local relay "
            "without TLS)"
        )
    default_port = {"tls": 465, "starttls": 587, "none": 25}[security]
    return SmtpEndpoint(
        hostname=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class DeploymentSettings(BaseSettings):
    """Deployment settings, read by every entry point alike: the environment first, then
    ``.env`` in the working directory. None is required; :class:`Settings` adds the token."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_api_base: str | None = Field(default=None, validation_alias="DISCORD_API_BASE")
    #: A SQLite file (the default) or a ``postgresql://`` URL (bot/db/postgres.py).
    hearth_db: str = Field(default="data/hearth.db", validation_alias="HEARTH_DB", repr=False)
    #: None: the defaults shipped inside the package (bot/defaults/hearth.toml).
    hearth_config: Path | None = Field(default=None, validation_alias="HEARTH_CONFIG")
    hearth_smtp_url: SecretStr | None = Field(default=None, validation_alias="HEARTH_SMTP_URL")
    hearth_smtp_from: str = Field(default="hearth@localhost", validation_alias="HEARTH_SMTP_FROM")
    #: CA certificates (PEM) trusted for the mail server besides the system's, for a server
    #: whose certificate a private or self-signed CA issued.
    hearth_smtp_ca_file: Path | None = Field(default=None, validation_alias="HEARTH_SMTP_CA_FILE")
    hearth_log_level: str = Field(default="INFO", validation_alias="HEARTH_LOG_LEVEL")
    #: The installation secret that seals anonymous ballots (bot/db/sealing.py), kept outside
    #: the database: this value if set, else the key file (created on first start).
    hearth_secret: SecretStr | None = Field(default=None, validation_alias="HEARTH_SECRET")
    hearth_key_file: Path | None = Field(default=None, validation_alias="HEARTH_KEY_FILE")
    #: The gateway shards this process runs (``0-3/16``, or ``5/16``); None: all of them,
    #: in one process, as many as Discord advises (bot/sharding.py).
    hearth_shards: ShardRange | None = Field(default=None, validation_alias="HEARTH_SHARDS")

    @field_validator("hearth_shards", mode="before")
    @classmethod
    def _shards(cls, v: Any) -> Any:
        if v is None or isinstance(v, ShardRange):
            return v
        if isinstance(v, str):
            return parse_shards(v) if v.strip() else None
        raise ValueError(SHARDS_HELP)

    @field_validator("hearth_secret")
    @classmethod
    def _secret_is_32_bytes(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        from bot.db.sealing import SealingError, parse_secret

        try:
            parse_secret(v.get_secret_value())
        except SealingError as exc:
            raise ValueError(str(exc)) from None
        return v

    @property
    def database_file(self) -> Path | None:
        """The SQLite file ``HEARTH_DB`` names; None when it is a PostgreSQL URL."""
        from bot.db.database import is_postgres_url

        return None if is_postgres_url(self.hearth_db) else Path(self.hearth_db)

    def database_label(self) -> str:
        """``HEARTH_DB`` for messages: the file, or the URL without its password."""
        from bot.db.postgres import redact_url

        return redact_url(self.hearth_db) if self.database_file is None else self.hearth_db

    def open_database(self) -> Database:
        """The database with the installation secret these settings name."""
        from bot.db.database import Database
        from bot.db.sealing import parse_secret

        secret = self.hearth_secret
        return Database(
            self.hearth_db if self.database_file is None else self.database_file,
            secret=parse_secret(secret.get_secret_value()) if secret is not None else None,
            key_file=self.hearth_key_file,
        )

    @field_validator("discord_api_base")
    @classmethod
    def _api_base_is_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://proxy.example/api/v10")
        return v.strip().rstrip("/")

    @field_validator("hearth_smtp_url")
    @classmethod
    def _smtp_is_url(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        parse_smtp_url(v.get_secret_value())
        return v

    @field_validator("hearth_smtp_ca_file", mode="before")
    @classmethod
    def _blank_ca_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("hearth_smtp_ca_file")
    @classmethod
    def _ca_file_loads(cls, v: Path | None) -> Path | None:
        if v is None:
            return None
        if not v.is_file():
            raise ValueError(f"{v} is not a file")
        try:
            ssl.create_default_context().load_verify_locations(cafile=str(v))
        except (ssl.SSLError, OSError, ValueError):
            raise ValueError(f"{v} holds no CA certificate in PEM form") from None
        return v

    @field_validator("hearth_log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        level = v.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level


class Settings(DeploymentSettings):
    """What talking to Discord needs (running the bot, ``sync``): also ``DISCORD_TOKEN``."""

    discord_token: SecretStr = Field(validation_alias="DISCORD_TOKEN")

    @field_validator("discord_token")
    @classmethod
    def _token_not_blank(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value().strip():
            raise ValueError("must not be empty")
        return v


_S = TypeVar("_S", bound=DeploymentSettings)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's report into one line naming the variable."""
    return _load(Settings, overrides)


def load_deployment_settings(**overrides: Any) -> DeploymentSettings:
    """The same settings, validated the same way, without requiring ``DISCORD_TOKEN``: for
    commands that never talk to Discord (``python -m bot db``)."""
    return _load(DeploymentSettings, overrides)


def _load(kind: type[_S], overrides: dict[str, Any]) -> _S:
    try:
        return kind(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "setting"
            if err["type"] == "missing":
                problems.append(
                    f"{name} is not set: set it in the environment or in .env "
                    f"(copy .env.example)"
                )
            else:
                problems.append(f"{name} {_msg(err['msg'])}")
        raise SettingsError("; ".join(problems)) from None


def _msg(text: str) -> str:
    """pydantic prefixes our own validator messages with 'Value error, '; people need not."""
    return text.removeprefix("Value error, ")


# --------------------------------------------------------------------------- config


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_hhmm(v: Any) -> TimeOfDay:
    """A time of day in the config, read by the one reader the commands use (timeparse)."""
    from bot.domain.timeparse import parse_time_of_day

    if isinstance(v, TimeOfDay):
        return v
    if isinstance(v, str):
        try:
            return parse_time_of_day(v)
        except HearthError:
            pass
    raise ValueError("must be a time of day such as 18:30 (or 6:30pm)")


def _parse_weekday(v: Any) -> str:
    """A weekday in the config, read by the one reader the commands use (timeparse)."""
    from bot.domain.timeparse import parse_weekday

    if isinstance(v, str):
        try:
            return WEEKDAYS[parse_weekday(v)]
        except HearthError:
            pass
    raise ValueError(f"must be a weekday name: {', '.join(WEEKDAYS)}")


def _check_tz(v: Any) -> str:
    try:
        ZoneInfo(str(v))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{v!r} is not an IANA timezone such as Europe/London") from None
    return str(v)


# One meaning, one validator: every config field of these kinds is read the same way.
Weekday = Annotated[str, BeforeValidator(_parse_weekday)]
HHMM = Annotated[TimeOfDay, BeforeValidator(_parse_hhmm)]
Timezone = Annotated[str, AfterValidator(_check_tz)]


def parse_short_duration(v: str) -> int:
    """'7d' / '1h' / '30m' / '2w' -> seconds (config-file durations)."""
    m = _DURATION.match(v)
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"{v!r} is not a duration like 30m, 1h, 7d or 2w")
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)]


class Stage(_Strict):
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    label: Annotated[str, Field(min_length=1, max_length=20)]
    """Forum tag names are limited to 20 characters by Discord."""


class CommunityDefaults(_Strict):
    timezone: Timezone = "Europe/London"


PromptText = Annotated[str, Field(min_length=1, max_length=1500)]


class StoriesConfig(_Strict):
    stages: Annotated[list[Stage], Field(min_length=1, max_length=20)]
    prompts: Annotated[list[PromptText], Field(min_length=1)]
    default_cadence: str = "off"
    default_weekday: Weekday = "wednesday"
    default_time: HHMM = TimeOfDay(10, 0)
    missed_prompt_grace_hours: Annotated[int, Field(ge=0, le=168)] = 12
    community_prompts: dict[str, Annotated[list[PromptText], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    """Optional per-community libraries, keyed by community slug (e.g. ``carers-voice``);
    a community without one uses ``prompts``."""

    @field_validator("default_cadence")
    @classmethod
    def _cadence(cls, v: str) -> str:
        if v not in ("weekly", "fortnightly", "monthly", "off"):
            raise ValueError("must be weekly, fortnightly, monthly or off")
        return v

    @model_validator(mode="after")
    def _unique_stages(self) -> StoriesConfig:
        slugs = [s.slug for s in self.stages]
        if len(set(slugs)) != len(slugs):
            raise ValueError("stage slugs must be unique")
        labels = [s.label.casefold() for s in self.stages]
        if len(set(labels)) != len(labels):
            raise ValueError("stage labels must be unique (they become forum tags)")
        for library in (self.prompts, *self.community_prompts.values()):
            if len(set(library)) != len(library):
                raise ValueError("a prompt library lists the same prompt twice")
        return self

    def library_for(self, community_slug: str) -> list[str]:
        return list(self.community_prompts.get(community_slug) or self.prompts)


class MeetingsConfig(_Strict):
    months: Annotated[list[Annotated[int, Field(ge=1, le=12)]], Field(min_length=2, max_length=12)]
    weekday: Weekday = "wednesday"
    nth: Annotated[int, Field(ge=-1, le=4)] = 2
    time: HHMM = Field(default_factory=lambda: _parse_hhmm("18:30"))
    default_duration_minutes: Annotated[int, Field(ge=1, le=1440)] = 120
    reminders: list[str] = Field(default_factory=lambda: ["7d", "1d", "1h"])

    @field_validator("nth")
    @classmethod
    def _nth(cls, v: int) -> int:
        if v == 0:
            raise ValueError("must be 1-4 (first..fourth) or -1 (last)")
        return v

    @field_validator("months")
    @classmethod
    def _distinct(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("months must be distinct")
        return sorted(v)

    @field_validator("reminders")
    @classmethod
    def _reminders(cls, v: list[str]) -> list[str]:
        for item in v:
            parse_short_duration(item)
        return v

    def reminder_seconds(self) -> list[int]:
        return sorted((parse_short_duration(r) for r in self.reminders), reverse=True)


class PollsConfig(_Strict):
    nudge_before: str = "1d"
    statement_min_group_size: Annotated[int, Field(ge=2)] = 3
    statement_consensus_threshold: Annotated[float, Field(gt=0.5, le=1.0)] = 0.7
    #: A statement needs at least this many votes before it can count as consensus.
    statement_min_votes: Annotated[int, Field(ge=1)] = 5
    #: Opinion groups are looked for only with at least this many voters (see
    #: bot/domain/statements.py for the method).
    statement_min_opinion_voters: Annotated[int, Field(ge=4)] = 12
    #: Default length of a statement round when /statement round is given no `closes`.
    statement_round_default: str = "7d"

    @field_validator("nudge_before")
    @classmethod
    def _nudge(cls, v: str) -> str:
        parse_short_duration(v)
        return v

    @field_validator("statement_round_default")
    @classmethod
    def _round_default(cls, v: str) -> str:
        parse_short_duration(v)
        return v

    def nudge_seconds(self) -> int:
        return parse_short_duration(self.nudge_before)

    def round_default_seconds(self) -> int:
        return parse_short_duration(self.statement_round_default)


class DigestConfig(_Strict):
    weekday: Weekday = "monday"
    time: HHMM = Field(default_factory=lambda: _parse_hhmm("09:00"))
    timezone: Timezone = "Europe/London"
    min_discipline_size: Annotated[int, Field(ge=1)] = 3
    quiet_weeks: Annotated[int, Field(ge=1, le=52)] = 3
    top_contributors: Annotated[int, Field(ge=0, le=10)] = 3
    late_night_start: Annotated[int, Field(ge=0, le=23)] = 22
    late_night_end: Annotated[int, Field(ge=0, le=23)] = 6
    retry_backoff_seconds: list[int] = Field(default_factory=lambda: [60, 300, 1800, 7200])


#: The placeholders the welcome DM fills in; any other ``{name}`` would reach members as typed.
INDUCTION_PLACEHOLDERS = ("community", "facilitator")
_PLACEHOLDER = re.compile(r"\{([^{}\n]{1,40})\}")


class InductionConfig(_Strict):
    text: Annotated[str, Field(min_length=1, max_length=1800)]
    """Sent as the welcome DM; ``{community}`` and ``{facilitator}`` are filled in."""

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, v: str) -> str:
        import difflib

        allowed = ", ".join(f"{{{name}}}" for name in INDUCTION_PLACEHOLDERS)
        for match in _PLACEHOLDER.finditer(v):
            name = match.group(1)
            if name in INDUCTION_PLACEHOLDERS:
                continue
            close = difflib.get_close_matches(name.strip().lower(), INDUCTION_PLACEHOLDERS, 1)
            hint = f" (did you mean {{{close[0]}}}?)" if close else ""
            raise ValueError(
                f"has an unknown placeholder {{{name}}}{hint}; the text may use {allowed}"
            )
        return v


class PrivacyConfig(_Strict):
    retention_days: Annotated[int, Field(ge=7, le=3650)] = 365


DEFAULT_CHANGE_DOMAINS = (
    "Care for people affected by cancer",
    "My own practice",
    "How services work together",
    "Anything else",
)


class ChangeConfig(_Strict):
    """Significant-change rounds (``/change round``)."""

    domains: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=80)]],
        Field(min_length=1, max_length=10),
    ] = Field(default_factory=lambda: list(DEFAULT_CHANGE_DOMAINS))
    collect_days: Annotated[int, Field(ge=1, le=180)] = 14
    """Default collection time after a round opens."""
    select_days: Annotated[int, Field(ge=1, le=90)] = 7
    """Default selection time after collection closes."""
    min_choices: Annotated[int, Field(ge=1, le=100)] = 2
    """Fewer selectors' choices than this in a domain: nothing is selected there."""


DEFAULT_ANNUAL_THEMES: dict[str, list[str]] = {
    "Cancer and end-of-life care": ["cancer", "oncolog", "palliat", "hospice", "end of life",
                                    "end-of-life"],
    "Teaching and training": ["teach", "taught", "train", "workshop", "lecture", "webinar",
                              "course", "session"],
    "Working across services": ["referr", "pathway", "multidisciplinary", "mdt", "hospital",
                                "pharmac", "social care", "district nurs", "network"],
    "Patients and carers": ["patient", "carer", "family", "families", "relative"],
    "Mental health and wellbeing": ["mental health", "wellbeing", "well-being", "anxi",
                                    "depress", "stress", "burnout"],
    "Communication": ["communicat", "listen", "conversation"],
}


class AnnualConfig(_Strict):
    """The members' annual report (``/value annual``)."""

    open_days: Annotated[int, Field(ge=1, le=180)] = 28
    """Default time members have to answer."""
    remind_days_before: Annotated[int, Field(ge=1, le=60)] = 3
    """Members who have not answered are reminded this long before the close."""
    min_theme_members: Annotated[int, Field(ge=1, le=50)] = 2
    """A theme mentioned by fewer members is left out of the report (no one singled out)."""
    themes: dict[
        Annotated[str, Field(min_length=1, max_length=80)],
        Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]], Field(min_length=1)],
    ] = Field(default_factory=lambda: dict(DEFAULT_ANNUAL_THEMES), max_length=25)
    """Theme label -> words (a word matches at the start of a word: "teach" finds
    "teaching"). Only labels and counts reach the report."""


class ValueStoriesConfig(_Strict):
    """Value-creation stories (``/value story``) and their lounge invitations
    (``/value prompt``)."""

    invitation_weekday: Weekday = "tuesday"
    """Invitations go up on the first such day of the month (every month or every quarter)."""
    invitation_time: HHMM = TimeOfDay(10, 0)
    """At this local time of the community."""
    missed_invitation_grace_days: Annotated[int, Field(ge=0, le=31)] = 7
    """One missed while Hearth was down is still posted if at most this many days late."""


class HearthConfig(_Strict):
    community: CommunityDefaults = CommunityDefaults()
    stories: StoriesConfig
    glossary: dict[str, Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=dict
    )
    meetings: MeetingsConfig
    polls: PollsConfig = PollsConfig()
    digest: DigestConfig = DigestConfig()
    induction: InductionConfig
    privacy: PrivacyConfig = PrivacyConfig()
    change: ChangeConfig = ChangeConfig()
    annual: AnnualConfig = AnnualConfig()
    value_stories: ValueStoriesConfig = ValueStoriesConfig()


#: The shipped defaults, inside the package so an installed Hearth finds them from any directory.
DEFAULT_CONFIG_NAME = "hearth.toml"


def default_config_text() -> str:
    from importlib import resources

    return resources.files("bot.defaults").joinpath(DEFAULT_CONFIG_NAME).read_text("utf-8")


def config_key(loc: tuple[int | str, ...]) -> str:
    """pydantic's location as a person counts: ``stories.stages[9].label`` for the ninth
    stage's label (list positions from 1, not pydantic's 0)."""
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part + 1}]"
        else:
            key += f".{part}" if key else str(part)
    return key or "(top level)"


def load_config(path: Path | None = None) -> HearthConfig:
    """Read and validate the TOML file (``None``: the shipped defaults); errors name the key."""
    name = str(path) if path is not None else "bot/defaults/hearth.toml (the shipped defaults)"
    try:
        text = default_config_text() if path is None else path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise SettingsError(f"config file {name} not found (check HEARTH_CONFIG)") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {name} is not valid TOML: {exc}") from None
    try:
        return HearthConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = config_key(err["loc"])
            msg = "unknown key" if err["type"] == "extra_forbidden" else _msg(err["msg"])
            problems.append(f"{key}: {msg}")
        raise SettingsError(f"config file {name} is invalid: " + "; ".join(problems)) from None
