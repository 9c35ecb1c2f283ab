from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import matplotlib.image

from bot.domain.chart import (
    ALT_TEXT_LIMIT,
    BACKGROUND,
    CHART_SIZE,
    COLOURS,
    EARLIER,
    THIS_WEEK,
    activity_chart_png,
    chart_alt_text,
    contrast_ratio,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature and chunk CRC."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert crc == zlib.crc32(kind + body)
    width, height = struct.unpack(">II", body[:8])
    assert data.endswith(b"IEND\xaeB`\x82")
    return width, height


def weeks(n: int) -> list[tuple[date, int, int]]:
    start = date(2025, 1, 6)
    return [(start + timedelta(weeks=i), 40 + 7 * (i % 5), 5 + i % 4) for i in range(n)]


def test_chart_is_a_png_of_the_documented_size() -> None:
    # 2x a 600 px e-mail column, so it stays sharp on phones and retina screens
    assert CHART_SIZE == (1200, 960)
    assert png_size(activity_chart_png(weeks(12), "GP Advisors: weekly activity")) == CHART_SIZE


def test_chart_size_does_not_depend_on_data() -> None:
    long_title = "A community with a rather long name indeed " * 3
    for data in ([], weeks(1), weeks(30), [(date(2025, 1, 6), 0, 0)] * 3):
        assert png_size(activity_chart_png(data, long_title)) == CHART_SIZE


def test_chart_is_safe_to_draw_from_several_threads_at_once() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: activity_chart_png(weeks(n), f"c{n}"), range(4, 12)))
    assert all(png_size(r) == CHART_SIZE for r in results)


def test_every_colour_has_at_least_4_5_to_1_contrast_with_the_background() -> None:
    assert round(contrast_ratio("#000000", "#ffffff"), 2) == 21.0  # the formula, checked
    assert round(contrast_ratio("#777777", "#ffffff"), 2) == 4.48  # WCAG's classic near-miss
    for name, colour in COLOURS.items():
        assert contrast_ratio(colour, BACKGROUND) >= 4.5, name
    assert EARLIER != THIS_WEEK


def pixels(png: bytes) -> set[tuple[int, int, int]]:
    import io

    import numpy as np

    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    # every distinct colour, counted by numpy (a Python loop over the pixels took ~20 s)
    rgb = np.rint(image[..., :3].reshape(-1, 3) * 255).astype(np.int64)
    packed = np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2])
    return {(int(c) >> 16, (int(c) >> 8) & 255, int(c) & 255) for c in packed}


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def test_this_week_is_highlighted_and_only_weeks_since_the_start_are_drawn() -> None:
    # A community three weeks old: three bars, the newest in the highlight colour; no empty
    # slots for weeks before it existed (so the bars keep the same width as twelve would).
    drawn = pixels(activity_chart_png(weeks(3), "Young community", total_members=41))
    assert hex_rgb(THIS_WEEK) in drawn and hex_rgb(EARLIER) in drawn
    only_one = pixels(activity_chart_png(weeks(1), "Brand new", total_members=5))
    assert hex_rgb(THIS_WEEK) in only_one and hex_rgb(EARLIER) not in only_one


def test_alt_text_carries_the_numbers() -> None:
    history = [(date(2027, 1, 4), 30, 6), (date(2027, 1, 11), 42, 7), (date(2027, 1, 18), 52, 12)]
    alt = chart_alt_text(history, 41, "Carers\nVoice")
    assert alt == (
        "Chart of weekly activity in Carers Voice over the 3 weeks since it began. "
        "This week (from 18 Jan): 52 messages; 12 of 41 members active. "
        "Earlier weeks, oldest first: 4 Jan: 30 messages, 6 active; 11 Jan: 42 messages, "
        "7 active."
    )
    assert chart_alt_text([], 41, "Carers Voice") == (
        "Chart of weekly activity in Carers Voice: no activity recorded yet."
    )
    many = chart_alt_text(weeks(30), 41, "A" * 2000)
    assert len(many) <= ALT_TEXT_LIMIT and "last 12 weeks" in many
