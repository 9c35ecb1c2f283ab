"""The digest e-mail as its reader sees it: a real browser (headless Chromium) at phone
(375 px) and desktop (800 px) widths, in the light and the dark colour scheme (issue 12).

The e-mail is built as Hearth sends it (scripts/render_digest.py, which the README names for
doing the same by hand). The pictures' paths are listed at the end of the pytest run (see
``pytest_terminal_summary`` in tests/conftest.py); ``HEARTH_RENDER_DIR`` keeps them in a
folder of your choice. Skipped only when no Chromium is installed (CI installs Debian's).
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from bot.domain.chart import CHART_SIZE, THIS_WEEK
from scripts.render_digest import SCHEMES, WIDTHS, Rendering, find_chromium, render_all

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed, so the digest e-mail cannot be rendered in a real "
    "browser (apt-get install chromium; CI's .ci/run installs it)",
)


@pytest.fixture(scope="module")
def renderings(tmp_path_factory: pytest.TempPathFactory) -> list[Rendering]:
    named = os.environ.get("HEARTH_RENDER_DIR")
    out = Path(named).resolve() if named else tmp_path_factory.mktemp("digest-render")
    return render_all(out, WIDTHS, CHROMIUM)


def pixels(png: Path) -> np.ndarray:
    """The screenshot as an (height, width, 3) array of 0-255 integers."""
    image = matplotlib.image.imread(io.BytesIO(png.read_bytes()), format="png")
    return np.rint(image[:, :, :3] * 255).astype(int)


def luminance(rgb: np.ndarray) -> np.ndarray:
    linear = rgb / 255
    linear = np.where(linear <= 0.04045, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4)
    out: np.ndarray = linear @ np.array([0.2126, 0.7152, 0.0722])
    return out


def hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


def test_digest_email_in_a_real_browser_at_375_and_800_px_light_and_dark(
    renderings: list[Rendering], record_property: Callable[[str, object], None]
) -> None:
    for r in renderings:
        record_property("picture", r.describe())
    assert sorted((r.width, r.scheme) for r in renderings) == sorted(
        (w, s) for w in WIDTHS for s in SCHEMES
    )
    for r in renderings:
        what = f"{r.width} px {r.scheme}"
        # No sideways scrolling: nothing is wider than the window.
        assert r.client_width == r.width, what
        assert r.scroll_width <= r.client_width, f"{what}: {r.overflowing}"
        assert not r.overflowing, what
        # The browser saw the colour scheme we asked for.
        assert r.dark is (r.scheme == "dark"), what
        # The chart is there, scaled to the column: full-size image, shown narrower.
        [(natural, shown)] = r.images
        assert natural == CHART_SIZE[0], what
        assert 300 <= shown <= min(552, r.width), f"{what}: chart {shown} px wide"

        img = pixels(r.png)
        assert img.shape[:2] == (r.height, r.width), what
        # The page behind the text, down the left edge: light, or dark in dark mode.
        edge = Counter(tuple(px) for px in img[:, 2])
        background = np.array(edge.most_common(1)[0][0])
        light = float(luminance(background))
        if r.scheme == "dark":
            assert light < 0.05, f"{what}: background {background} is not dark"
        else:
            assert light > 0.8, f"{what}: background {background} is not light"
        # The words at the top stand out from the card they are on (WCAG's 4.5:1): pale
        # text on dark, dark text on light.
        region = img[:300, 16 : r.width - 16].reshape(-1, 3)
        card = np.array(Counter(tuple(px) for px in region).most_common(1)[0][0])
        lo, hi = (
            np.minimum(luminance(region), float(luminance(card))),
            np.maximum(luminance(region), float(luminance(card))),
        )
        legible = (hi + 0.05) / (lo + 0.05) >= 4.5
        assert legible.sum() > 1000, f"{what}: the heading and summary are not legible"
        # This week's bar, in its own colour, made it onto the page.
        near = np.abs(img.reshape(-1, 3) - hex_rgb(THIS_WEEK)).max(axis=1) <= 8
        assert near.sum() > 100, f"{what}: the chart's highlighted week is not visible"
