from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from bot.domain.chart import CHART_SIZE, activity_chart_png

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
    assert CHART_SIZE == (800, 400)
    assert png_size(activity_chart_png(weeks(12), "GP Advisors: weekly activity")) == CHART_SIZE


def test_chart_size_does_not_depend_on_data() -> None:
    long_title = "A community with a rather long name indeed " * 3
    for data in ([], weeks(1), weeks(30), [(date(2025, 1, 6), 0, 0)] * 3):
        assert png_size(activity_chart_png(data, long_title)) == CHART_SIZE


def test_chart_is_safe_to_draw_from_several_threads_at_once() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: activity_chart_png(weeks(n), f"c{n}"), range(4, 12)))
    assert all(png_size(r) == CHART_SIZE for r in results)
