"""The configured stage taxonomy: stages become forum tags, so Discord's limits apply."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from bot.errors import InvalidInput
from bot.text import echo

#: Discord forum channels allow at most 20 tags of at most 20 characters; stages become tags.
MAX_STAGES = 20
STAGE_LABEL_LIMIT = 20
AUTOCOMPLETE_LIMIT = 25


@dataclass(frozen=True, slots=True)
class Stage:
    slug: str
    label: str


DEFAULT_STAGES: list[tuple[str, str]] = [
    ("noticing-symptoms", "Noticing symptoms"),
    ("seeing-a-gp", "Seeing a GP"),
    ("tests-and-diagnosis", "Tests and diagnosis"),
    ("treatment-planning", "Treatment planning"),
    ("treatment", "Treatment"),
    ("living-beyond", "Living beyond cancer"),
    ("recurrence", "Recurrence"),
    ("advanced-care", "Advanced care"),
    ("end-of-life", "End of life"),
    ("bereavement", "Bereavement"),
]

_SLUG_OK = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(label: str) -> str:
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_label.lower()).strip("-")


class Stages:
    """The configured stage taxonomy (ordered)."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        self._stages = tuple(stages)
        if not self._stages:
            raise ValueError("at least one story stage is needed")
        if len(self._stages) > MAX_STAGES:
            raise ValueError(
                f"{len(self._stages)} story stages configured; a Discord forum allows at "
                f"most {MAX_STAGES} tags"
            )
        seen: set[str] = set()
        for stage in self._stages:
            if not _SLUG_OK.match(stage.slug):
                raise ValueError(f"stage slug {stage.slug!r} must be lowercase words joined by -")
            if not 1 <= len(stage.label) <= STAGE_LABEL_LIMIT:
                raise ValueError(
                    f"stage label {stage.label!r} must be 1-{STAGE_LABEL_LIMIT} characters "
                    "(it becomes a forum tag)"
                )
            if stage.slug in seen:
                raise ValueError(f"stage slug {stage.slug!r} appears twice")
            seen.add(stage.slug)
        self._by_key: dict[str, Stage] = {}
        for stage in self._stages:
            self._by_key.setdefault(stage.slug, stage)
        for stage in self._stages:
            self._by_key.setdefault(stage.label.casefold(), stage)

    @classmethod
    def from_config(
        cls, entries: Sequence[str | Sequence[str] | Mapping[str, str]] | None = None
    ) -> Stages:
        """Accepts labels (``"Treatment"``), pairs (``["treatment", "Treatment"]``) or tables
        (``{slug = "treatment", label = "Treatment"}``); ``None`` gives the defaults.
        ValueError on anything malformed so a bad config stops the bot at start."""
        if entries is None:
            entries = DEFAULT_STAGES
        stages: list[Stage] = []
        for entry in entries:
            if isinstance(entry, str):
                label = entry.strip()
                stages.append(Stage(slugify(label), label))
            elif isinstance(entry, Mapping):
                label = str(entry.get("label", "")).strip()
                slug = str(entry.get("slug") or slugify(label)).strip()
                stages.append(Stage(slug, label))
            elif len(entry) == 2:
                stages.append(Stage(str(entry[0]).strip(), str(entry[1]).strip()))
            else:
                raise ValueError(f"cannot read story stage {entry!r}")
        return cls(stages)

    def __iter__(self) -> Iterator[Stage]:
        return iter(self._stages)

    def __len__(self) -> int:
        return len(self._stages)

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and self._lookup(value) is not None

    @property
    def slugs(self) -> list[str]:
        return [s.slug for s in self._stages]

    def _lookup(self, value: str) -> Stage | None:
        v = value.strip()
        return (
            self._by_key.get(v.lower())
            or self._by_key.get(v.casefold())
            or self._by_key.get(slugify(v))
        )

    def resolve(self, value: str) -> Stage:
        """The stage named by slug or label (any case); InvalidInput naming the closest
        stage and listing all of them otherwise."""
        found = self._lookup(value)
        if found is not None:
            return found
        keys = {s.label.casefold(): s for s in self._stages} | {s.slug: s for s in self._stages}
        close = difflib.get_close_matches(value.strip().casefold(), list(keys), n=1, cutoff=0.6)
        hint = f" Did you mean “{keys[close[0]].label}”?" if close else ""
        valid = ", ".join(s.label for s in self._stages)
        raise InvalidInput(
            f"`{echo(value, 60)}` is not one of this community's story stages.{hint} "
            f"The stages are: {valid}."
        )

    def autocomplete(self, prefix: str) -> list[Stage]:
        """Up to 25 stages for a slash-command autocomplete: label or slug starting with the
        typed text first, then a word of the label starting with it, then anywhere."""
        p = prefix.strip().casefold()
        if not p:
            return list(self._stages[:AUTOCOMPLETE_LIMIT])
        starts, words, anywhere = [], [], []
        for s in self._stages:
            label = s.label.casefold()
            if label.startswith(p) or s.slug.startswith(p):
                starts.append(s)
            elif any(w.startswith(p) for w in re.split(r"[\s\-]+", label)):
                words.append(s)
            elif p in label or p in s.slug:
                anywhere.append(s)
        return (starts + words + anywhere)[:AUTOCOMPLETE_LIMIT]
