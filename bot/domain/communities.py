"""Communities: names, kinds, disciplines and who may facilitate.

Pure logic; the Discord side (channels, roles, overwrites) lives in ``cogs/communities``
and storage in ``bot.db.communities``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.errors import InvalidInput, NotAllowed
from bot.text import echo, escape_inline

NAME_MAX = 50
"""Role names get " facilitator" appended and must stay within Discord's 100 characters;
50 also keeps channel names readable."""
REGION_MAX = 50
CHANNEL_PURPOSES = ("lounge", "stories", "voice", "meetings")


class Kind(StrEnum):
    REFERENCE = "reference"
    PRACTICE = "practice"
    DISTILLING = "distilling"


class Discipline(StrEnum):
    GP = "gp"
    NURSE = "nurse"
    PATIENT = "patient"
    CARER = "carer"
    OTHER = "other"


def parse_kind(value: str) -> Kind:
    try:
        return Kind(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"`{echo(value, 60)}` is not a community kind. Choose one of: "
            + ", ".join(k.value for k in Kind)
            + "."
        ) from None


def parse_discipline(value: str) -> Discipline:
    try:
        return Discipline(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"`{echo(value, 60)}` is not a discipline. Choose one of: "
            + ", ".join(d.value for d in Discipline)
            + "."
        ) from None


def parse_circles(value: str | None) -> list[Discipline]:
    """'gp, nurse' -> [gp, nurse]; 'all' -> every discipline; None/'' -> none."""
    if value is None or not value.strip():
        return []
    if value.strip().lower() in ("all", "yes", "true"):
        return list(Discipline)
    out: list[Discipline] = []
    for part in re.split(r"[,;\s]+", value.strip()):
        if part:
            d = parse_discipline(part)
            if d not in out:
                out.append(d)
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_name(raw: str) -> str:
    """Validate a community name as people will see it (category and role names)."""
    name = _CONTROL.sub("", unicodedata.normalize("NFC", raw or "")).strip()
    name = re.sub(r"\s+", " ", name)
    if not name:
        raise InvalidInput("Give the community a name, for example `Carers Voice`.")
    if len(name) > NAME_MAX:
        raise InvalidInput(
            f"That name is {len(name)} characters; keep it to {NAME_MAX} or fewer."
        )
    if "@" in name or "#" in name or "`" in name:
        raise InvalidInput("A community name cannot contain `@`, `#` or backticks.")
    if not slugify(name):
        raise InvalidInput(
            "A community name needs at least one letter or digit, for example `GP Forum 2`."
        )
    return name


_LATIN_EXTRA = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
        "ı": "i", "ħ": "h", "Ħ": "H",
    }
)
"""Latin letters that Unicode does not decompose into an ASCII base letter plus accents."""


def slugify(name: str) -> str:
    """A valid Discord text-channel name fragment: lowercase, digits, dashes.

    Accents are folded to ASCII (``Soignants Île`` -> ``soignants-ile``) so channels are
    easy to type; anything else becomes a dash, runs of dashes collapse.
    """
    folded = unicodedata.normalize("NFKD", name.translate(_LATIN_EXTRA))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")
    # Folding can lengthen a name ("ß" -> "ss"); cut, then drop a dash left at the cut.
    return slug[:NAME_MAX].rstrip("-")


def channel_name(slug: str, purpose: str) -> str:
    return f"{slug}-{purpose}"


def clean_region(raw: str | None) -> str | None:
    if raw is None:
        return None
    region = _CONTROL.sub("", raw).strip()
    if not region:
        return None
    if len(region) > REGION_MAX:
        raise InvalidInput(f"Keep the region to {REGION_MAX} characters or fewer.")
    return region


def clean_email(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    email = raw.strip()
    if len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput(
            f"`{echo(email, 60)}` does not look like an e-mail address (e.g. name@example.org)."
        )
    return email


@dataclass(frozen=True)
class Community:
    id: int
    guild_id: int
    name: str
    slug: str
    kind: Kind
    timezone: str
    category_id: int | None
    lounge_id: int | None
    stories_id: int | None
    stories_is_forum: bool
    voice_id: int | None
    meetings_id: int | None
    member_role_id: int | None
    facilitator_role_id: int | None
    sponsor_id: int | None
    sponsor_email: str | None
    serves_id: int | None
    created_by: int
    created_at: datetime
    archived_at: datetime | None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True)
class Membership:
    community_id: int
    user_id: int
    discipline: Discipline
    region: str | None
    is_facilitator: bool
    joined_at: datetime
    left_at: datetime | None

    @property
    def active(self) -> bool:
        return self.left_at is None


@dataclass(frozen=True)
class Actor:
    """Who is acting: enough to decide permissions without Discord objects."""

    user_id: int
    guild_id: int
    is_manager: bool
    display_name: str = ""


def can_facilitate(actor: Actor, community: Community, membership: Membership | None) -> bool:
    if actor.guild_id != community.guild_id:
        return False
    if actor.is_manager:
        return True
    return membership is not None and membership.active and membership.is_facilitator


def require_facilitator(
    actor: Actor, community: Community, membership: Membership | None
) -> None:
    if not can_facilitate(actor, community, membership):
        raise NotAllowed(
            f"Only a facilitator of **{escape_inline(community.name)}** or a server manager "
            "can do that."
        )


def require_member(actor: Actor, community: Community, membership: Membership | None) -> None:
    """Members (and facilitators, and server managers) may take part."""
    if actor.guild_id != community.guild_id:
        raise NotAllowed("That community belongs to another server.")
    if actor.is_manager or (membership is not None and membership.active):
        return
    raise NotAllowed(f"Only members of **{escape_inline(community.name)}** can do that.")


def require_participant(
    actor: Actor, community: Community, membership: Membership | None
) -> None:
    """Taking part (a story, a vote, an RSVP) is for active members only, managers included:
    a non-member's voice must not count in the community's collective voice."""
    if actor.guild_id != community.guild_id:
        raise NotAllowed("That community belongs to another server.")
    if membership is not None and membership.active:
        return
    raise NotAllowed(
        f"Only members of **{escape_inline(community.name)}** can take part. "
        + ("A facilitator can add you with `/community add`." if actor.is_manager else "")
    )


def require_active(community: Community) -> None:
    if community.archived:
        raise InvalidInput(
            f"**{escape_inline(community.name)}** is archived: its channels are read-only and "
            "nothing new "
            "can be added. Its history is kept."
        )


def validate_link(community: Community, serves: Community) -> None:
    if community.id == serves.id:
        raise InvalidInput("A community cannot distil its own voice; pick another one to serve.")
    if community.guild_id != serves.guild_id:
        raise InvalidInput("Both communities must be in this server.")
    if community.kind is not Kind.DISTILLING:
        raise InvalidInput(
            f"Only a `distilling` community can be linked; **{escape_inline(community.name)}** "
            "is a "
            f"`{community.kind.value}` community."
        )
    if serves.serves_id == community.id:
        raise InvalidInput(
            f"**{escape_inline(serves.name)}** already distils "
            f"**{escape_inline(community.name)}**; links cannot go both ways."
        )
