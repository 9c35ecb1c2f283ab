"""bot.text: echoing user input safely inside code spans and running Markdown."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import (
    BIDI_CONTROLS,
    ELLIPSIS,
    LOOKALIKE_BACKTICK,
    ZWSP,
    clean_line,
    clean_multiline,
    echo,
    escape_block,
    escape_inline,
    escape_markdown,
    plain,
    strip_invisible,
    truncate,
)

#: text that leans on the characters these helpers exist for
HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            list("`*_~|<>[]()#-+=>@\\\n\r\t \x00\x07\x1b\x7f\x85")
            + list(BIDI_CONTROLS)
            + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2028", "\u3164"]
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=200,
)
ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def _visible_problem(ch: str) -> bool:
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cf", "Cs")


@settings(max_examples=300, deadline=None)
@given(HOSTILE, st.integers(min_value=1, max_value=120))
def test_echo_is_one_bounded_line_without_invisible_chars_or_backticks(s: str, limit: int) -> None:
    out = echo(s, limit)
    assert out
    assert "`" not in out
    assert "\n" not in out and "\r" not in out
    assert not any(_visible_problem(ch) for ch in out), ascii(out)
    assert not ZERO_WIDTH & set(out)
    assert len(out) <= max(limit, len("(empty)"))
    assert out == out.strip() and "  " not in out


@settings(max_examples=200, deadline=None)
@given(HOSTILE)
def test_echo_is_idempotent_and_keeps_plain_text(s: str) -> None:
    once = echo(s, 500)
    assert echo(once, 500) == once
    plain = " ".join(re.sub(r"[^A-Za-z0-9 ]", "", s).split())
    if plain:
        assert echo(plain, 500) == plain


def test_echo_examples() -> None:
    assert echo("  Europe/Lodnon ") == "Europe/Lodnon"
    assert echo("a`b``c") == f"a{LOOKALIKE_BACKTICK}b{LOOKALIKE_BACKTICK * 2}c"
    assert echo("evil\u202egnp.exe") == "evilgnp.exe"
    assert echo("two\nlines\r\n\tand tabs") == "two lines and tabs"
    assert echo("x" * 100, 10) == "x" * 9 + ELLIPSIS
    assert echo("", 10) == echo("\u200b\u202e", 10) == "(empty)"
    assert echo(None) == "(empty)"
    # markdown is inert in a code span: nothing is escaped, so nothing shows a backslash
    assert echo("**bold** ||spoiler|| [x](https://e.xample)") == (
        "**bold** ||spoiler|| [x](https://e.xample)"
    )


def test_truncate_rejects_a_useless_limit() -> None:
    with pytest.raises(ValueError):
        truncate("abc", 0)
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab" + ELLIPSIS


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_escape_inline_leaves_no_live_markdown_and_no_layout_characters(s: str) -> None:
    out = escape_inline(s)
    assert "\n" not in out and "\r" not in out
    assert not BIDI_CONTROLS & set(out)
    # only the joiners (emoji, Persian/Indic) and the ZWSP that defuses "@" may remain
    for ch in out:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            pytest.fail(f"control character {ch!r} in {out!r}")
        if unicodedata.category(ch) == "Cf":
            assert ch in {"\u200c", "\u200d", ZWSP} or 0xE0020 <= ord(ch) < 0xE0080, ascii(ch)
    assert "@everyone" not in out and "@here" not in out
    # every Markdown character is escaped by an odd run of backslashes
    for m in re.finditer(r"[`*_~|<>\[\]#]", out):
        run = len(out[: m.start()]) - len(out[: m.start()].rstrip("\\"))
        assert run % 2 == 1, out
    # nothing said is lost: unescaping gives the cleaned one-line text back
    unescaped = re.sub(r"\\(.)", r"\1", out.replace("@" + ZWSP, "@"))
    cleaned = " ".join(strip_invisible(s, keep_joiners=True).split())
    assert unescaped == cleaned


@settings(max_examples=200, deadline=None)
@given(HOSTILE, st.integers(min_value=1, max_value=80))
def test_escape_inline_limit_counts_the_text_and_never_cuts_an_escape(s: str, limit: int) -> None:
    out = escape_inline(s, limit)
    unescaped = re.sub(r"\\(.)", r"\1", out.replace("@" + ZWSP, "@"))
    assert len(unescaped) <= limit
    assert not out.endswith("\\") or out.endswith("\\\\")


def test_escape_inline_examples() -> None:
    assert escape_inline("Carers Voice") == "Carers Voice"
    assert escape_inline("**Big** news") == r"\*\*Big\*\* news"
    assert escape_inline("# Heading\n> quote") == r"\# Heading \> quote"
    assert escape_inline("[click](https://evil.example)") == r"\[click\](https://evil.example)"
    assert escape_inline("||x|| __y__ ~~z~~") == r"\|\|x\|\| \_\_y\_\_ \~\~z\~\~"
    assert escape_inline("- item") == r"\- item"
    assert escape_inline("@everyone") == "@" + ZWSP + "everyone"
    assert escape_inline("abc\u202edef") == "abcdef"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert escape_inline(family) == family  # emoji sequences keep their joiners
    assert echo(family) == "\U0001f468\U0001f469\U0001f467"  # echo is stricter


def test_escape_block_keeps_lines_and_escapes_each() -> None:
    assert escape_block("  # one\n\n- two\u202e  \n") == "\\# one\n\n\\- two"


def test_escape_markdown_is_the_one_shared_helper() -> None:
    from bot.domain import digest_render

    assert digest_render.escape_markdown is escape_markdown
    assert digest_render.md_inline("a*b\nc") == escape_inline("a*b\nc")


def _layout_hazard(ch: str) -> bool:
    """What plain()/clean_*() must remove: controls, bidi, surrogates and every invisible
    formatting character except the joiners and emoji tags that sequences need."""
    if ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs"):
        return True
    if unicodedata.category(ch) == "Cf":
        return not (ch in {"\u200c", "\u200d"} or 0xE0020 <= ord(ch) < 0xE0080)
    return False


@settings(max_examples=300, deadline=None)
@given(HOSTILE, st.integers(min_value=1, max_value=300))
def test_plain_is_one_clean_bounded_line(s: str, limit: int) -> None:
    out = plain(s, limit)
    assert len(out) <= limit
    assert not any(_layout_hazard(ch) for ch in out), ascii(out)
    assert out == " ".join(out.split())  # one line, no doubled or edge whitespace
    assert not {"\u2028", "\u2029", "\x85"} & set(out)
    cleaned = clean_line(s)
    if len(cleaned) <= limit:
        assert out == cleaned  # nothing escaped, nothing lost
    else:
        assert out.endswith(ELLIPSIS) and cleaned.startswith(out[:-1])


@settings(max_examples=200, deadline=None)
@given(HOSTILE, st.integers(min_value=1, max_value=120))
def test_plain_is_idempotent(s: str, limit: int) -> None:
    once = plain(s, limit)
    assert plain(once, limit) == once


@settings(max_examples=100, deadline=None)
@given(HOSTILE, st.integers(min_value=1, max_value=120))
def test_plain_fills_an_empty_place(s: str, limit: int) -> None:
    out = plain(s, limit, empty="(untitled)")
    assert out and len(out) <= limit


def test_plain_examples() -> None:
    # no Markdown escaping: these places show text literally
    assert plain("**Spring** _meeting_ @everyone", 100) == "**Spring** _meeting_ @everyone"
    assert plain("evil\u202egnp.exe\u2066", 100) == "evilgnp.exe"
    assert plain("a\u200bb\u2060c\ufeffd\x00e\x1b", 100) == "abcde"
    assert plain("two\nlines\r\n\tand  tabs", 100) == "two lines and tabs"
    assert plain("x" * 120, 100) == "x" * 99 + ELLIPSIS
    assert plain("\u3164\u200b", 100) == ""
    assert plain(None, 100, empty="Meeting") == "Meeting"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert plain(family, 10) == family


@settings(max_examples=200, deadline=None)
@given(HOSTILE)
def test_clean_multiline_keeps_lines_and_tabs_only(s: str) -> None:
    out = clean_multiline(s)
    assert not any(_layout_hazard(ch) for ch in out if ch not in "\n\t"), ascii(out)
    assert "\r" not in out and "\x85" not in out and "\u2028" not in out
    assert out == out.strip()
    assert all(line == line.rstrip() for line in out.split("\n"))
    assert clean_multiline(out) == out
    # the words are the same as the one-line cleaning sees
    assert " ".join(out.split()) == clean_line(s)


def test_clean_multiline_examples() -> None:
    assert clean_multiline("  first\u202e line  \r\n\tindented\x00\rthird\n\n") == (
        "first line\n\tindented\nthird"
    )
    assert clean_multiline("a\u2028b\u200bc") == "a\nbc"


def test_echo_never_ends_with_a_backslash_before_the_closing_backtick() -> None:
    from bot.text import LOOKALIKE_BACKSLASH, echo

    assert echo("\\") == LOOKALIKE_BACKSLASH
    assert echo("C:\\temp\\") == "C:\\temp" + LOOKALIKE_BACKSLASH
    assert echo("a\\b") == "a\\b", "inner backslashes are literal in a code span: kept"
