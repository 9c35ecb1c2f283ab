"""Hostile text for the fuzz suite: what people (and pasted text) can put in an option or a form.

Discord delivers a string option of 1..6000 characters (the API's cap for ``max_length``;
no Hearth option sets a lower one) and a modal text input within the field's own
min/max_length. Lone surrogates cannot travel through JSON and NUL is not something a
Discord client sends, so neither is generated; every other code point can be.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

#: Discord's upper bound for a string option when the command sets no max_length
OPTION_MAX = 6000
#: what a member without Nitro can post in one message
MESSAGE_MAX = 2000

WHITESPACE = [" ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\u200b", "\ufeff"]
RTL = ["\u202e", "\u202b", "\u200f", "\u2067", "مرحبا بكم", "שלום עליכם", "\u202egnp.exe"]
COMBINING = ["e\u0301", "Z\u0337\u0322a\u0335l\u0336g\u0338o\u0337", "\u0301\u0301\u0301",
             "a" + "\u0300" * 40]
EMOJI = ["👩\u200d⚕️", "🏳️\u200d🌈", "🇬🇧", "🧑🏽\u200d🦽", "❤️", "🫶", "😀" * 3]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "@\u200beveryone"]
MARKDOWN = ["**bold**", "*", "_", "__", "~~gone~~", "||spoiler||", "`", "```", "```py\nx\n```",
            "> quote", ">>> all quoted", "# Heading", "-# small", "[link](https://evil.example)",
            "<https://x.example>", "\\", "\\*", "<t:0:F>", "</community list:1>", ":smile:"]
CONTROL = [chr(c) for c in range(1, 32)] + ["\x7f", "\x85", "\u2028", "\u2029"]
SQL_AND_FORMAT = ["'; DROP TABLE communities; --", "%", "_%", "%s", "{0}", "{}", "%(x)s",
                  "${jndi:x}", "<script>", "&amp;", "NULL", "None", "null"]
#: digits Python's str.isdigit() accepts but int() may not ("²"), or SQLite cannot store
NUMBERISH = ["0", "-1", "1", "99999999999999999999", "1e309", "NaN", "-0", "0x1F", "１２", "²",
             "٣", "#1", "1" * 30]
TIMEISH = ["now", "tomorrow", "yesterday", "in 0 days", "in -3 days", "in 99999 years",
           "2027-02-30 25:61", "31/12/9999", "0000-00-00", "2027-03-10 18:30", "18:30",
           "24:00", "3 and 9", "second wednesday", "last friday", "13", "Europe/London",
           "Mars/Olympus", "UTC", "2h", "90m", "1w", "in 3 days", "monday"]
WORDS = ["Carers Voice!", "carers-voice", "gp", "nurse", "North", "a", "A;B;C", ";;;", "; ;",
         "yes;no", "x" * 101, "opt" * 30]


@dataclass(frozen=True)
class Targets:
    """Real ids from the world, so mention injection names people and roles that exist."""

    users: tuple[int, ...] = ()
    roles: tuple[int, ...] = ()
    channels: tuple[int, ...] = ()


def mentions(targets: Targets) -> st.SearchStrategy[str]:
    fixed = ["@everyone", "@here", "<@123>", "<@!123>", "<@&456>", "<#789>", "@everyone@here",
             "<@&0>", "@ everyone", "＠everyone"]
    real = [f"<@{u}>" for u in targets.users] + [f"<@!{u}>" for u in targets.users]
    real += [f"<@&{r}>" for r in targets.roles] + [f"<#{c}>" for c in targets.channels]
    return st.sampled_from(fixed + real)


def pieces(targets: Targets) -> st.SearchStrategy[str]:
    """One building block of hostile text."""
    alphabet = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
    return st.one_of(
        mentions(targets),
        st.sampled_from(WHITESPACE + RTL + COMBINING + EMOJI + ZERO_WIDTH),
        st.sampled_from(MARKDOWN + CONTROL + SQL_AND_FORMAT),
        st.sampled_from(NUMBERISH + TIMEISH + WORDS),
        st.text(alphabet, min_size=1, max_size=12),
    )


def hostile_text(
    targets: Targets, *, max_size: int = OPTION_MAX, min_size: int = 1
) -> st.SearchStrategy[str]:
    """Short mixes of the pieces, or one piece repeated up to `max_size` characters."""
    short = st.lists(pieces(targets), min_size=1, max_size=6).map("".join)
    huge = st.builds(
        lambda piece, n: (piece * n)[:max_size],
        st.one_of(pieces(targets), mentions(targets).map(lambda m: m + " ")),
        st.integers(min_value=1, max_value=max_size),
    )
    exact = st.just("@everyone ").map(lambda s: (s * (max_size // len(s) + 1))[:max_size])
    # a long run then something else ("1111...1x"): what backtracking regexes choke on
    run_then = st.builds(lambda h, s: h[: max(0, max_size - len(s))] + s, huge, short)
    return (
        st.one_of(short, short, huge, exact, run_then)
        .map(lambda s: s[:max_size])
        .filter(lambda s: len(s) >= min_size)
    )


def hostile_int() -> st.SearchStrategy[int]:
    """Any integer a Discord client accepts for an integer option (|n| <= 2**53)."""
    edge = st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, -(2**31), 2**53, -(2**53), 10**9])
    return st.one_of(edge, st.integers(min_value=-(2**53), max_value=2**53))
