"""Which prompt a community is offered next (no repeats within a cycle)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bot.errors import InvalidInput


def next_prompt(
    library: Sequence[str],
    used: Sequence[int | str],
    rng: random.Random | None = None,
) -> tuple[int, str]:
    """Choose the next prompt for a community.

    ``used`` is the community's history of posted prompts, oldest first, as library indices
    or prompt texts; entries no longer in the library are ignored. The history is split into
    cycles, a cycle closing once every current prompt has appeared in it; within the open
    cycle no prompt repeats. When a new cycle starts, the prompt posted last is not chosen
    first (if the library has more than one prompt). With ``rng`` the choice among the
    remaining prompts is random but reproducible; without it, the lowest index is taken.
    """
    if not library:
        raise InvalidInput(
            "The prompt library is empty. Add prompts to the configuration, then try again."
        )
    if len(set(library)) != len(library):
        raise ValueError("the prompt library has duplicate prompts")
    by_text = {text: i for i, text in enumerate(library)}
    everything = set(range(len(library)))

    seen: set[int] = set()
    last: int | None = None
    for entry in used:
        if isinstance(entry, bool):
            continue
        if isinstance(entry, int):
            index: int | None = entry if 0 <= entry < len(library) else None
        else:
            index = by_text.get(entry)
        if index is None:
            continue
        if index in seen:  # the history has moved on to a new cycle (e.g. library edited)
            seen = set()
        seen.add(index)
        last = index
        if seen >= everything:
            seen = set()

    remaining = everything - seen
    if not seen and last is not None and len(library) > 1:
        remaining.discard(last)
    candidates = sorted(remaining)
    chosen = rng.choice(candidates) if rng is not None else candidates[0]
    return chosen, library[chosen]
