"""Papers for comment: a member's draft put to the group, and what the group says of it.

Pure logic, no Discord, no database. A GP advisor puts a paper "to the group for comment
first", because "the group agrees that…" carries more weight than "I think that…". Members
answer *agree*, *agree with changes* or *disagree*, each with an optional comment, named or
anonymous; at close the author receives the comments and the community sees the collective
statement worded by :func:`collective_statement`.

Decisions written down here because the README and the tests rely on them:

* The author does not answer their own paper: the paper asks the *group*, and the author's
  own agreement would only inflate the count. So the members counted (``eligible``) are the
  community's active members at close, the author excluded.
* An answer counts only if its member is still an active member at close (someone who left
  during the comment period is neither counted nor asked about).
* Anonymous is the default; a named comment reaches the author with the commenter's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import PurePath

from bot.errors import InvalidInput
from bot.text import clean_line, clean_multiline, echo, percent

TITLE_MAX = 100
"""A title is shown in embed titles (256) with words around it, and in autocomplete (100)."""
TEXT_MAX = 4000
"""A typed draft: one modal field (Discord's limit is 4000 characters), shown in an embed."""
COMMENT_MAX = 1000
"""A comment on the paper: one modal field, kept short enough to read many of them."""
MIN_OPEN = timedelta(hours=1)
MAX_OPEN = timedelta(days=90)
FILE_MAX_BYTES = 10 * 1024 * 1024
"""Discord's upload limit for a bot in a server without boosts (10 MiB): Hearth re-posts
the file with the paper, so it must fit."""
FILE_TYPES = (".pdf", ".docx", ".doc", ".odt", ".rtf", ".txt", ".md")
"""Documents people write and read, not executables or archives."""
LONG_COMMENTS = 1800
"""Above this many characters the author's comments arrive as a Markdown file."""


class Answer(StrEnum):
    AGREE = "agree"
    CHANGES = "changes"
    DISAGREE = "disagree"

    @property
    def label(self) -> str:
        return {
            Answer.AGREE: "Agree",
            Answer.CHANGES: "Agree with changes",
            Answer.DISAGREE: "Disagree",
        }[self]

    @property
    def code(self) -> str:
        """One letter in a button's custom_id."""
        return {Answer.AGREE: "a", Answer.CHANGES: "c", Answer.DISAGREE: "d"}[self]

    @classmethod
    def from_code(cls, code: str) -> Answer:
        return {"a": cls.AGREE, "c": cls.CHANGES, "d": cls.DISAGREE}[code]


@dataclass(frozen=True)
class Paper:
    id: int
    community_id: int
    author_id: int | None
    title: str
    body: str | None
    file_name: str | None
    created_at: datetime
    closes_at: datetime
    channel_id: int | None
    message_id: int | None
    closed_at: datetime | None
    closed_by: int | None
    tally: Tally | None
    announced: bool

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def accepts_answers(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.closes_at


@dataclass(frozen=True)
class Tally:
    """How the group answered, counted at close."""

    agree: int
    changes: int
    disagree: int
    eligible: int

    def __post_init__(self) -> None:
        if min(self.agree, self.changes, self.disagree, self.eligible) < 0:
            raise ValueError("counts cannot be negative")

    @property
    def agreeing(self) -> int:
        """Everyone who agrees, with or without changes."""
        return self.agree + self.changes

    @property
    def answered(self) -> int:
        return self.agree + self.changes + self.disagree

    @property
    def members(self) -> int:
        """The ``M`` of "N of M members": never fewer than those who answered."""
        return max(self.eligible, self.answered)

    @property
    def not_answered(self) -> int:
        return self.members - self.answered


@dataclass(frozen=True)
class SealedAnswer:
    """What is sealed for one member while the paper is open (the author never sees it)."""

    answer: Answer
    comment: str
    named: bool
    user_id: int | None  # only when named: the author will see who wrote it

    def to_bytes(self) -> bytes:
        return json.dumps(
            {"a": self.answer.value, "t": self.comment, "n": self.named, "u": self.user_id},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> SealedAnswer:
        data = json.loads(raw.decode())
        return cls(
            Answer(data["a"]),
            str(data["t"]),
            bool(data["n"]),
            int(data["u"]) if data.get("u") is not None else None,
        )


#: Every sealed answer of a paper is padded to this many bytes: its size says nothing. A
#: character takes at most 6 bytes in the JSON (a control character escaped as \u0001).
SEALED_PAD = 6 * COMMENT_MAX + 128


@dataclass(frozen=True)
class Comment:
    """A comment as the author receives it: named ones carry their writer, anonymous none."""

    answer: Answer
    text: str
    user_id: int | None


def canonical_order(comments: list[Comment]) -> list[Comment]:
    """The order comments are stored and shown in: by answer, named before anonymous, then
    by text. Never the order they came in, which would say who answered when."""
    rank = {Answer.AGREE: 0, Answer.CHANGES: 1, Answer.DISAGREE: 2}
    return sorted(
        comments, key=lambda c: (rank[c.answer], c.user_id is None, c.text, c.user_id or 0)
    )


# --------------------------------------------------------------------------- validation


def validate_title(raw: str) -> str:
    title = clean_line(raw)
    if not title:
        raise InvalidInput("Give the paper a title (a few words saying what it is).")
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            f"That title is {len(title)} characters; keep it to {TITLE_MAX} or fewer "
            "(say more in the paper itself)."
        )
    return title


def validate_text(raw: str) -> str:
    text = clean_multiline(raw)
    if not text:
        raise InvalidInput("The paper is empty: write or paste the draft, or attach a file.")
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            f"The draft is {len(text)} characters; a typed draft can be up to {TEXT_MAX}. "
            "Attach it as a file instead."
        )
    return text


def validate_comment(raw: str | None) -> str:
    text = clean_multiline(raw or "")
    if len(text) > COMMENT_MAX:
        raise InvalidInput(
            f"Your comment is {len(text)} characters; keep it to {COMMENT_MAX} or fewer."
        )
    return text


def validate_closes(closes_at: datetime, now: datetime) -> datetime:
    if closes_at <= now:
        raise InvalidInput("That deadline has already passed: choose a time in the future.")
    if closes_at - now < MIN_OPEN:
        raise InvalidInput(
            "Give members at least an hour to read and comment: choose a later deadline."
        )
    if closes_at - now > MAX_OPEN:
        raise InvalidInput("Choose a deadline within 90 days.")
    return closes_at


def file_types_text() -> str:
    return ", ".join(FILE_TYPES)


def validate_file(filename: str, size: int) -> str:
    """The attached draft's file name, if Hearth can re-post it (type and size)."""
    name = clean_line(PurePath(filename.replace("\\", "/")).name)
    suffix = PurePath(name).suffix.lower()
    if suffix not in FILE_TYPES:
        raise InvalidInput(
            f"Attach the draft as a document: {file_types_text()} "
            f"(`{echo(name) or 'that file'}` is not one of these)."
        )
    if size > FILE_MAX_BYTES:
        raise InvalidInput(
            f"That file is {size / (1024 * 1024):.1f} MB; the limit is "
            f"{FILE_MAX_BYTES // (1024 * 1024)} MB. Share a shorter version or a PDF."
        )
    if size == 0:
        raise InvalidInput("That file is empty: attach the draft itself.")
    return name


# --------------------------------------------------------------------------- counting


def tally(answers: list[Answer], eligible: int) -> Tally:
    return Tally(
        answers.count(Answer.AGREE),
        answers.count(Answer.CHANGES),
        answers.count(Answer.DISAGREE),
        eligible,
    )


def _members(n: int) -> str:
    return f"{n} member{'s' if n != 1 else ''}"


def collective_statement(t: Tally) -> str:
    """The collective statement: "N of M members (x%) agree with the paper, k of them with
    changes", then how many disagree and how many did not answer (percentages through
    :func:`bot.text.percent`)."""
    m = t.members
    if m == 0:
        return "No member could answer this paper, so the group has no view on it."
    lead = (
        f"{t.agreeing} of {_members(m)} ({percent(t.agreeing, m)}%) agree with the paper"
        + (f", {t.changes} of them with changes" if t.agreeing else "")
        + "."
    )
    rest = [
        f"{t.disagree} ({percent(t.disagree, m)}%) disagree"
        if t.disagree != 1
        else f"1 ({percent(1, m)}%) disagrees",
        f"{t.not_answered} did not answer",
    ]
    return f"{lead} {rest[0]}; {rest[1]}."


def comments_markdown(title: str, comments: list[Comment], names: dict[int, str]) -> str:
    """The author's comments as Markdown (named ones with their writer's name)."""
    lines = [f"# Comments on \u201c{title}\u201d", ""]
    for answer in Answer:
        group = [c for c in comments if c.answer is answer]
        if not group:
            continue
        lines += [f"## {answer.label}", ""]
        for c in group:
            who = names.get(c.user_id, "a member") if c.user_id is not None else "anonymous"
            lines.append(f"- **{who}**: " + c.text.replace("\n", "\n  "))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
