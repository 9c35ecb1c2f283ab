"""Render a realistic collective document as its readers see it: HTML in Chromium, and PDF.

    python scripts/render_document.py [--out DIR] [--widths 375 800]

builds a sample document (sections, two consented quotes, an accepted amendment; curly
quotes and accents) with the same code ``/document export`` uses
(:mod:`bot.domain.documents.render`), writes ``DIR/document.html``, ``DIR/document.md`` and
``DIR/document.pdf`` (WeasyPrint), screenshots the HTML in headless Chromium at each width
(``DIR/document-<width>.png``; Debian's ``chromium``, or ``HEARTH_CHROMIUM``), and, when
``pypdfium2`` is installed (``pip install pypdfium2``; not a Hearth dependency), the PDF's
first page as ``DIR/document-pdf-page1.png``. Default DIR: ``build/document-render``.
``docs/document.png`` (the README's picture) is the 375 px rendering.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain.documents import (
    Credit,
    Quote,
    QuoteStatus,
    Section,
    ShownDocument,
    Version,
    render_html,
    render_markdown,
    render_pdf,
    shown,
    snapshot,
)
from scripts.render_digest import _chromium, find_chromium

WIDTHS = (375, 800)


def sample_document() -> ShownDocument:
    at = datetime(2027, 3, 4, 10, tzinfo=UTC)
    sections = [
        Section(
            1,
            1,
            "Noticing symptoms",
            "We listen when someone says “something is not right”, even when the tests are normal.",
        ),
        Section(
            2,
            2,
            "Tests and diagnosis",
            "Every test comes with a plain explanation of "
            "what it is for and when the results will come.",
        ),
        Section(
            3,
            3,
            "Going home",
            "Before anyone goes home, a nurse explains every tablet. "
            "Families are told who to call, day and night.",
        ),
        Section(4, 4, "Living with cancer", ""),
    ]
    quotes = {
        1: Quote(
            1,
            1,
            2,
            7,
            None,
            None,
            "Nobody told us what the tests were for, so we waited in fear for a week.",
            Credit.ANONYMOUS,
            None,
            QuoteStatus.AGREED,
            at,
        ),
        2: Quote(
            2,
            1,
            3,
            9,
            None,
            None,
            "The nurse sat with me and explained every tablet. "
            "I felt “listened to” for the first time.",
            Credit.NAMED,
            "Zoë Núñez",
            QuoteStatus.AGREED,
            at,
        ),
    }
    version = Version(
        4,
        at,
        "Version 4: section 'Going home' — amendment accepted (12 support, 1 oppose, 2 pass): "
        "replaced 1 sentence, added 1 sentence.",
        snapshot(sections, list(quotes.values())),
    )
    return shown("Our principles of people-centred care", "Carers Voice", version, quotes)


def screenshot(binary: str, page: Path, width: int, out: Path) -> Path:
    """The page laid out exactly ``width`` px wide (an iframe: a headless window is never
    narrower than 500 px), cropped to its content."""
    from PIL import Image, ImageChops

    height = 2600
    with tempfile.TemporaryDirectory(prefix="hearth-doc-") as tmp:
        frame = Path(tmp) / "frame.html"
        frame.write_text(
            '<!DOCTYPE html><html><body style="margin:0;background:#fff">'
            f'<iframe src="{page.as_uri()}" style="border:0;width:{width}px;height:{height}px">'
            "</iframe></body></html>",
            encoding="utf-8",
        )
        raw = Path(tmp) / "raw.png"
        _chromium(binary, f"--window-size={max(width, 500)},{height}", f"--screenshot={raw}",
                  frame.as_uri(), dark=False)  # fmt: skip
        image = Image.open(raw).convert("RGB").crop((0, 0, width, height))
    blank = Image.new("RGB", image.size, (255, 255, 255))
    box = ImageChops.difference(image, blank).getbbox()
    bottom = min(height, (box[3] if box else height) + 24)
    png = out / f"document-{width}.png"
    image.crop((0, 0, width, bottom)).save(png)
    return png


def pdf_page_png(pdf: Path, out: Path) -> Path | None:
    try:
        import pypdfium2
    except ImportError:
        return None
    page = pypdfium2.PdfDocument(str(pdf))[0]
    png = out / "document-pdf-page1.png"
    page.render(scale=1.4).to_pil().save(png)
    return png


def render_all(out: Path, widths: tuple[int, ...] = WIDTHS) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    doc = sample_document()
    page = out / "document.html"
    page.write_text(render_html(doc), encoding="utf-8")
    (out / "document.md").write_text(render_markdown(doc), encoding="utf-8")
    pdf = out / "document.pdf"
    pdf.write_bytes(render_pdf(doc))
    made = [page, out / "document.md", pdf]
    chromium = find_chromium()
    if chromium is None:
        print("no chromium found: HTML screenshots skipped", file=sys.stderr)
    else:
        made += [screenshot(chromium, page, w, out) for w in widths]
    page_png = pdf_page_png(pdf, out)
    if page_png is not None:
        made.append(page_png)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/document-render"))
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS))
    args = parser.parse_args()
    for path in render_all(args.out, tuple(args.widths)):
        print(path)


if __name__ == "__main__":
    main()
