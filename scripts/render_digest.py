"""Render a realistic digest e-mail in a real browser, the way its reader sees it.

    python scripts/render_digest.py [--out DIR] [--widths 375 800]

builds the e-mail exactly as Hearth sends it (:func:`bot.domain.email_message.
build_digest_email`: the HTML with its CSS inlined, and the chart), opens it in headless
Chromium (Debian's ``chromium``; ``HEARTH_CHROMIUM`` names another binary) at each width in
the light and the dark colour scheme, and writes full-page screenshots
``DIR/digest-<width>-<light|dark>.png`` (default DIR: ``build/digest-render``), printing each
path with what was measured: the page's width against the window's (no sideways scrolling)
and its background colour. ``tests/e2e/test_digest_screens.py`` runs the same code and
asserts on it; ``docs/digest.png`` (the README's picture) is its 375 px light rendering.
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain.chart import activity_chart_png, chart_alt_text
from bot.domain.digest import (
    Digest,
    HeldMeeting,
    MemberActivity,
    OpenPoll,
    Period,
    PollOutcome,
    ShareableStory,
    UpcomingMeeting,
    WeekActivity,
    compile_digest,
)
from bot.domain.email_message import CHART_FILENAME, build_digest_email

WIDTHS = (375, 800)
SCHEMES = ("light", "dark")
#: Flags for a quiet, reproducible headless run (no network, no profile, no scrollbars).
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--force-device-scale-factor=1", "--mute-audio",
)  # fmt: skip
#: Dark mode, as an operating system in dark mode asks for it (checked by the probe).
DARK_FLAGS = ("--force-dark-mode", "--blink-settings=preferredColorScheme=0")


# --------------------------------------------------------------------------- a digest


def sample_digest() -> Digest:
    """Carers Voice, six weeks old, 41 members: what a sponsor gets on an ordinary week."""
    start = datetime(2027, 2, 8, 9, tzinfo=UTC)  # Monday 09:00 London (GMT)
    end = start + timedelta(days=7)
    began = start - timedelta(weeks=5, days=2)
    names = [
        "Jean Okafor", "Priya Shah", "Tom Evans", "Mary Clarke", "Sam Patel", "Ruth Hughes",
        "Ade Bello", "Claire Wood", "Hannah Lee", "Owen Price", "Grace Kim", "Ian Murray",
    ]  # fmt: skip
    disciplines = ["carer", "patient", "nurse", "gp", "carer", "other"]
    counts = [17, 11, 8, 6, 5, 4, 3, 3, 2, 2, 1, 1]
    members = []
    for i in range(41):
        hours: dict[datetime, int] = {}
        if i < len(counts):
            # Jean posts late at night (23:00 London); the others in the day.
            at = start + timedelta(days=2, hours=14 if i == 0 else 5)
            hours[at] = counts[i]
        name = names[i] if i < len(names) else f"Member {i + 1}"
        last = None if i < len(counts) or i > 38 else start - timedelta(days=3)
        members.append(
            MemberActivity(
                1000 + i,
                name,
                disciplines[i % len(disciplines)],
                began,
                None,
                hours,
                last_active_before=last,
            )
        )
    previous = [
        WeekActivity((start - timedelta(weeks=w)).date(), msgs, active)
        for w, msgs, active in ((5, 24, 7), (4, 41, 11), (3, 38, 10), (2, 55, 13), (1, 49, 12))
    ]
    return compile_digest(
        "Carers Voice",
        Period(start, end),
        members,
        previous,
        tz="Europe/London",
        stories=[
            ShareableStory(
                "The night the hospice nurse stayed",
                "When Dad's breathing changed at 2am I didn't know who to call. The nurse "
                "who came stayed until it was light and explained every sound. I want other "
                "carers to know they can ask for that.",
                "End of life",
                "Jean Okafor",
            ),
            ShareableStory(
                "Parking before chemo",
                "Every appointment starts with forty minutes looking for a space. By the "
                "time we get in, Mum is exhausted.",
                "Treatment",
                None,
            ),
        ],
        kept_story_count=3,
        poll_outcomes=[
            PollOutcome(
                "Should evening clinics be offered for carers who work?",
                "23 of 29 members (79%) agree that evening clinics should be offered.",
                29,
                41,
                start + timedelta(days=4),
            )
        ],
        open_polls=[
            OpenPoll("Which day suits the spring meeting?", 17, 41, end + timedelta(days=3))
        ],
        upcoming_meetings=[
            UpcomingMeeting("Spring gathering, Leeds", end + timedelta(days=24, hours=9), 18, 6, 3)
        ],
        held_meetings=[
            HeldMeeting(
                "Regional check-in (North)",
                start + timedelta(days=3, hours=9),
                "We agreed to ask the trust for a single contact number for carers at night.",
                14,
                16,
                notes_at=start + timedelta(days=3, hours=12),
            )
        ],
        as_of=end,
    )


# --------------------------------------------------------------------------- the e-mail


def write_email(digest: Digest, out: Path) -> Path:
    """The e-mail as sent (its HTML part, and its chart beside it as a file): ``digest.html``."""
    weeks = [(w.week_start, w.messages, w.active_members) for w in digest.weekly_activity]
    total = digest.participation.total_members
    chart = activity_chart_png(weeks, f"{digest.community_name}: weekly activity",
                               total_members=total)  # fmt: skip
    msg = build_digest_email(
        digest, sender="hearth@example.org", recipient="sponsor@example.org",
        chart_png=chart, chart_alt=chart_alt_text(weeks, total, digest.community_name),
    )  # fmt: skip
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    page = str(html_part.get_content())
    image = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    cid = str(image["Content-ID"]).strip("<>")
    out.mkdir(parents=True, exist_ok=True)
    (out / CHART_FILENAME).write_bytes(image.get_content())
    path = out / "digest.html"
    path.write_text(page.replace(f"cid:{cid}", CHART_FILENAME), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the browser


def find_chromium() -> str | None:
    named = os.environ.get("HEARTH_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def _chromium(binary: str, *args: str, dark: bool) -> str:
    with tempfile.TemporaryDirectory(prefix="hearth-chromium-") as profile:
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", *(DARK_FLAGS if dark else ())]
        done = subprocess.run(
            [binary, *flags, *args], capture_output=True, text=True, timeout=120, check=True
        )
    return done.stdout


#: Loaded in an <iframe> exactly ``width`` px wide (a headless window is never narrower than
#: 500 px, an iframe is), it measures the e-mail as laid out at that width.
_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="mail" style="border:0;width:{width}px;height:800px" srcdoc="{srcdoc}"
 onload="(function(f){{var d=f.contentDocument,e=d.documentElement,w=f.contentWindow;
 var all=[].slice.call(d.querySelectorAll('body *'));
 var wide=all.filter(function(n){{return n.getBoundingClientRect().right>e.clientWidth+0.5;}})
   .map(function(n){{return n.tagName+'.'+n.className;}}).slice(0,5);
 var images=[].slice.call(d.images).map(function(i){{
   return [i.naturalWidth,i.getBoundingClientRect().width];}});
 document.body.setAttribute('data-probe',JSON.stringify({{
   scrollWidth:e.scrollWidth,clientWidth:e.clientWidth,height:e.scrollHeight,
   dark:w.matchMedia('(prefers-color-scheme: dark)').matches,
   background:w.getComputedStyle(d.body).backgroundColor,overflowing:wide,images:images}}));
 }})(this)"></iframe></body></html>"""


@dataclass(frozen=True)
class Rendering:
    width: int
    scheme: str
    png: Path
    height: int
    scroll_width: int
    client_width: int
    dark: bool
    background: str
    overflowing: tuple[str, ...]
    images: tuple[tuple[int, float], ...]

    def describe(self) -> str:
        return (
            f"{self.png}  ({self.width}x{self.height}, {self.scheme}; page {self.scroll_width}"
            f" px wide in a {self.client_width} px window; background {self.background})"
        )


def measure(binary: str, page: Path, width: int, *, dark: bool) -> dict[str, object]:
    probe = page.with_name(f"probe-{width}-{'dark' if dark else 'light'}.html")
    srcdoc = html_lib.escape(page.read_text(encoding="utf-8"), quote=True)
    probe.write_text(_PROBE.format(width=width, srcdoc=srcdoc), encoding="utf-8")
    dom = _chromium(binary, "--window-size=1000,800", "--dump-dom", probe.as_uri(), dark=dark)
    probe.unlink()
    found = re.search(r'data-probe="([^"]*)"', dom)
    if found is None:
        raise RuntimeError(f"the probe did not run in {binary}: {dom[:300]!r}")
    result: dict[str, object] = json.loads(html_lib.unescape(found.group(1)))
    return result


def render(binary: str, page: Path, width: int, scheme: str) -> Rendering:
    """Measure the page at ``width``, then screenshot the whole of it."""
    dark = scheme == "dark"
    probe = measure(binary, page, width, dark=dark)
    height = int(str(probe["height"]))
    png = page.with_name(f"digest-{width}-{scheme}.png")
    _chromium(binary, f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri(),
              dark=dark)  # fmt: skip
    images = probe["images"]
    assert isinstance(images, list)
    return Rendering(
        width=width,
        scheme=scheme,
        png=png,
        height=height,
        scroll_width=int(str(probe["scrollWidth"])),
        client_width=int(str(probe["clientWidth"])),
        dark=bool(probe["dark"]),
        background=str(probe["background"]),
        overflowing=tuple(str(o) for o in probe["overflowing"]),  # type: ignore[attr-defined]
        images=tuple((int(a), float(b)) for a, b in images),
    )


def render_all(
    out: Path, widths: tuple[int, ...] = WIDTHS, binary: str | None = None
) -> list[Rendering]:
    chromium = binary or find_chromium()
    if chromium is None:
        raise FileNotFoundError(
            "no chromium found (install Debian's chromium, or set HEARTH_CHROMIUM)"
        )
    page = write_email(sample_digest(), out)
    return [render(chromium, page, w, scheme) for w in widths for scheme in SCHEMES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/digest-render"))
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS))
    args = parser.parse_args(argv)
    for r in render_all(args.out.resolve(), tuple(args.widths)):
        print(r.describe())
        if r.scroll_width > r.client_width:
            print(f"  wider than the window: {', '.join(r.overflowing)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
