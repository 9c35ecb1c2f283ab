"""Calendar links for a meeting: Google Calendar, Outlook, and its Discord event.

Both calendar links carry the meeting's instants in UTC (``...Z``), so they mean the same
moment wherever the person clicking is, fold or no fold. Every value is percent-encoded
(spaces as ``%20``, which both services read; ``+`` is shown literally by some Outlook
versions). Discord refuses a link button longer than 512 characters, so the details, then
the location, then the title are shortened (with an ellipsis) until the link fits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from bot.text import clean_multiline, plain

#: Discord's limit on a link button's URL.
URL_MAX = 512

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/action/compose"


def discord_event_url(guild_id: int, event_id: int) -> str:
    return f"https://discord.com/events/{guild_id}/{event_id}"


def _google_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _outlook_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(base: str, params: list[tuple[str, str]]) -> str:
    return base + "?" + urlencode([(k, v) for k, v in params if v], quote_via=quote, safe="")


def _fit(make: Callable[[str, str, str], str], title: str, details: str, location: str) -> str:
    """Shorten details, then location, then title, until the link fits in URL_MAX."""
    fields = {"details": details, "location": location, "title": title}
    url = make(fields["title"], fields["details"], fields["location"])
    for name in ("details", "location", "title"):
        while len(url) > URL_MAX and fields[name]:
            text = fields[name].removesuffix("…")
            # a character takes at most 9 encoded characters (%XX for each of 3 bytes)
            cut = max(1, (len(url) - URL_MAX) // 9)
            text = text[: max(0, len(text) - cut)].rstrip()
            fields[name] = text + "…" if text else ""
            url = make(fields["title"], fields["details"], fields["location"])
    return url


def google_calendar_url(
    title: str, start_utc: datetime, end_utc: datetime, details: str, location: str
) -> str:
    dates = f"{_google_time(start_utc)}/{_google_time(end_utc)}"

    def make(t: str, d: str, loc: str) -> str:
        return _encode(
            GOOGLE,
            [
                ("action", "TEMPLATE"),
                ("text", t),
                ("dates", dates),
                ("details", d),
                ("location", loc),
            ],
        )

    return _fit(make, _clean(title), clean_multiline(details or ""), _place(location))


def outlook_calendar_url(
    title: str, start_utc: datetime, end_utc: datetime, details: str, location: str
) -> str:
    start, end = _outlook_time(start_utc), _outlook_time(end_utc)

    def make(t: str, d: str, loc: str) -> str:
        return _encode(
            OUTLOOK,
            [("subject", t), ("startdt", start), ("enddt", end), ("body", d), ("location", loc)],
        )

    return _fit(make, _clean(title), clean_multiline(details or ""), _place(location))


def _clean(title: str) -> str:
    return plain(title, 255, empty="Meeting")


def _place(location: str | None) -> str:
    return plain(location, 255) if location else ""
