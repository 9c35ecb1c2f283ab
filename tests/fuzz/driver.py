"""Feeding the command table through the emulator: a fixed sweep of the nastiest values for
every fuzzable option, then hypothesis-generated mixes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.commands import Cmd
from tests.fuzz.harness import FuzzWorld
from tests.fuzz.strategies import CONTROL, OPTION_MAX, Targets, hostile_int, hostile_text

FUZZ_SETTINGS = settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def nasty_values(t: Targets) -> list[str]:
    """The values every free-text option gets at least once, whatever hypothesis draws."""
    user, role, chan = t.users[-1], t.roles[-1], t.channels[-1]
    mass = f"@everyone @here <@&{role}> <@{user}> <@!{user}> <#{chan}>"
    return [
        mass,
        (f"@here <@&{role}> <@{user}> " * OPTION_MAX)[:OPTION_MAX],
        " \u200b\t\u3000",
        "".join(CONTROL),
        "\u202e**Z\u0337a\u0335l\u0336g\u0338o** 👩\u200d⚕️ ||x|| ```@everyone``` > שלום",
        "99999999999999999999999",
        "²",
    ]


NASTY_INTS = [0, -1, 2**53]


def required_options(fw: FuzzWorld, path: str) -> dict[str, dict[str, Any]]:
    _, _, specs = fw.emu._resolve_command(fw.world.guild, path)
    return {s["name"]: s for s in specs}


def base_options(fw: FuzzWorld, cmd: Cmd) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in cmd.base.items():
        is_person = isinstance(value, str) and value.startswith("@")
        out[name] = fw.people[value[1:]] if is_person else value
    if "story" in cmd.ints:
        out["story"] = fw.story_id
    return out


def must_fuzz(fw: FuzzWorld, cmd: Cmd) -> set[str]:
    """Required options the base does not fill and that have no choices."""
    specs = required_options(fw, cmd.path)
    return {n for n, s in specs.items() if s.get("required") and n not in cmd.base
            and n not in cmd.choices and n in (*cmd.strings, *cmd.ints)
            and n not in cmd.ints}


def run_one(fw: FuzzWorld, cmd: Cmd, actor: str, options: dict[str, Any]) -> None:
    user = fw.world.owner if actor == "owner" else fw.people[actor]
    mark = fw.mark()
    fw.run(fw.slash(user, cmd.path, options))
    shown = {k: (v if not isinstance(v, str) or len(v) < 80 else f"{v[:60]!r}...({len(v)})")
             for k, v in options.items()}
    fw.check_since(mark, f"/{cmd.path} as {actor} with {shown}")


def sweep(fw: FuzzWorld, cmds: Sequence[Cmd]) -> int:
    """Each nasty value in each fuzzable option, the others valid. Returns interactions run."""
    values = nasty_values(fw.targets())
    n = 0
    for cmd in cmds:
        for name in cmd.strings:
            for value in values:
                options = base_options(fw, cmd)
                for opt, choices in cmd.choices.items():
                    options[opt] = choices[0]
                for req in must_fuzz(fw, cmd):
                    options.setdefault(req, values[0])
                options[name] = value
                run_one(fw, cmd, cmd.actor, options)
                n += 1
        for name in cmd.ints:
            for number in NASTY_INTS:
                options = base_options(fw, cmd)
                for opt, choices in cmd.choices.items():
                    options[opt] = choices[0]
                options[name] = number
                run_one(fw, cmd, cmd.actor, options)
                n += 1
    return n


def fuzz(fw: FuzzWorld, cmds: Sequence[Cmd], max_examples: int) -> None:
    """Hypothesis: a command, an actor, choice values and hostile text in 1+ options."""
    text = hostile_text(fw.targets())
    actors = ["owner", "fran", "alice", "outsider", "mallory"]

    @settings(FUZZ_SETTINGS, max_examples=max_examples)
    @given(data=st.data())
    def example(data: st.DataObject) -> None:
        cmd = data.draw(st.sampled_from(list(cmds)), label="command")
        fuzzable = [*cmd.strings, *cmd.ints]
        chosen = set(data.draw(st.sets(st.sampled_from(fuzzable), min_size=1), label="fuzzed"))
        chosen |= must_fuzz(fw, cmd)
        options = base_options(fw, cmd)
        for opt, choices in cmd.choices.items():
            options[opt] = data.draw(st.sampled_from(choices), label=opt)
        for name in sorted(chosen):
            strategy = hostile_int() if name in cmd.ints else text
            options[name] = data.draw(strategy, label=name)
        actor = data.draw(st.sampled_from([cmd.actor, cmd.actor, *actors]), label="actor")
        run_one(fw, cmd, actor, options)

    example()
