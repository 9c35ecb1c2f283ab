"""Who a message would notify, worked out the way Discord does from content and allowed_mentions.

Discord's rules (developer docs, Message resource, "Allowed Mentions Object"):

- Mentions are only ever taken from the message content and the text of its components
  (never from embeds): ``@everyone``/``@here``, ``<@id>``/``<@!id>`` for users, ``<@&id>``
  for roles.
- Without an ``allowed_mentions`` field, everything in the content is parsed, except in
  interaction responses and follow-ups, where only user mentions are parsed by default.
- With the field, ``parse`` lists the kinds parsed from the content (absent means none), and
  the ``users``/``roles`` arrays name the only users/roles that may be notified besides.
- An edit is parsed afresh with the edit request's own ``allowed_mentions`` (or the defaults
  when the request has none), whatever the original message allowed.

Permissions (MENTION_EVERYONE, a role being mentionable) can still stop a notification; this
module deliberately ignores them, so a test that asserts "no mass mention" holds even on a
server where the bot was granted MENTION_EVERYONE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

EVERYONE_RE = re.compile(r"@(?:everyone|here)")
USER_RE = re.compile(r"<@!?(\d+)>")
ROLE_RE = re.compile(r"<@&(\d+)>")


@dataclass(frozen=True)
class Mentions:
    """The notifications one message (or one edit of it) would cause."""

    everyone: bool = False
    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    #: the user ids the sender listed explicitly in allowed_mentions.users (intended pings);
    #: None when users were parsed from the content wholesale
    allowed_users: frozenset[int] | None = frozenset()

    @property
    def mass(self) -> bool:
        """@everyone, @here or a role: the pings a bot must never take from user text."""
        return self.everyone or bool(self.roles)

    @property
    def unlisted_users(self) -> frozenset[int]:
        """Users notified without being named in allowed_mentions.users."""
        if self.allowed_users is None:
            return self.users
        return self.users - self.allowed_users


@dataclass(frozen=True)
class MentionRecord:
    """One bot message create or edit and the mentions Discord would apply to it."""

    message_id: int
    channel_id: int
    action: str  # "create" | "edit"
    interaction: bool
    text: str
    allowed_mentions: dict[str, Any] | None
    mentions: Mentions


def component_text(components: list[dict[str, Any]] | None) -> list[str]:
    """Text of Components V2 text displays (type 10), which Discord parses like content."""
    out: list[str] = []
    for c in components or []:
        if c.get("type") == 10 and c.get("content"):
            out.append(str(c["content"]))
        out += component_text(c.get("components"))
        if isinstance(c.get("component"), dict):
            out += component_text([c["component"]])
        if isinstance(c.get("accessory"), dict):
            out += component_text([c["accessory"]])
    return out


def _ids(values: Any) -> frozenset[int]:
    return frozenset(int(v) for v in values or [] if str(v).isdigit())


def effective_mentions(
    text: str, allowed_mentions: dict[str, Any] | None, *, interaction: bool = False
) -> Mentions:
    """The mentions Discord would notify for `text` under `allowed_mentions`."""
    in_users = _ids(USER_RE.findall(text))
    in_roles = _ids(ROLE_RE.findall(text))
    has_everyone = bool(EVERYONE_RE.search(text))
    if allowed_mentions is None:
        parse = {"users"} if interaction else {"everyone", "users", "roles"}
        listed_users: frozenset[int] = frozenset()
        listed_roles: frozenset[int] = frozenset()
    else:
        parse = {str(p) for p in allowed_mentions.get("parse") or []}
        listed_users = _ids(allowed_mentions.get("users"))
        listed_roles = _ids(allowed_mentions.get("roles"))
    users = in_users if "users" in parse else in_users & listed_users
    roles = in_roles if "roles" in parse else in_roles & listed_roles
    return Mentions(
        everyone=has_everyone and "everyone" in parse,
        users=users,
        roles=roles,
        allowed_users=None if "users" in parse else listed_users,
    )


def record(
    message_id: int,
    channel_id: int,
    action: str,
    body: dict[str, Any],
    content: str,
    components: list[dict[str, Any]] | None,
    *,
    interaction: bool,
) -> MentionRecord:
    text = "\n".join([content or "", *component_text(components)])
    allowed = body.get("allowed_mentions")
    return MentionRecord(
        message_id=message_id,
        channel_id=channel_id,
        action=action,
        interaction=interaction,
        text=text,
        allowed_mentions=allowed,
        mentions=effective_mentions(text, allowed, interaction=interaction),
    )
