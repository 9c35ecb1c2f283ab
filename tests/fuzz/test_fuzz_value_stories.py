"""Bad input through the value-story form: hostile text in all five answers, submitted and
posted (display names with mass mentions included), then the invitation schedule and the
ways out run over whatever was stored. The harness's invariants are checked after each."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.value_stories import ValueStoryService
from tests.emulator.interactions import all_custom_ids
from tests.fuzz.driver import FUZZ_SETTINGS
from tests.fuzz.harness import COMMUNITY, fuzz_world, standard_setup
from tests.fuzz.strategies import hostile_text

pytestmark = pytest.mark.e2e

CYCLES = ("immediate", "potential", "applied", "realized", "reframing")


def test_value_story_form_survives_bad_input(tmp_path: Path) -> None:
    with fuzz_world(tmp_path, standard_setup) as fw:
        answer = hostile_text(fw.targets(), max_size=1000)
        p = fw.people

        async def tell(who: str, values: dict[str, str], consent: str, submit: bool) -> None:
            user = p[who]
            rec = await fw.slash(user, "value story", {"community": COMMUNITY, "consent": consent})
            if rec.modal is None:  # refused before the form (not a member)
                return
            shown = await fw.emu.submit_modal(user, rec, values)
            await fw.settle()
            preview = shown.reply
            if (
                submit
                and preview is not None
                and "value:draft:submit" in all_custom_ids(preview.components)
            ):
                await fw.emu.click(user, preview, "value:draft:submit")
                await fw.settle()

        @settings(FUZZ_SETTINGS, max_examples=30)
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            mark = fw.mark()
            who = data.draw(st.sampled_from(["alice", "mallory", "outsider"]), label="teller")
            values = {c: data.draw(answer, label=c) for c in CYCLES}
            consent = data.draw(st.sampled_from(["group", "anonymous", "named"]), label="consent")
            submit = data.draw(st.booleans(), label="submit")
            fw.run(tell(who, values, consent, submit))
            fw.check_since(mark, f"value story as {who}: {values!r:.300}")

        example()

        mark = fw.mark()
        fw.run(
            fw.world.slash(fw.world.owner, "value prompt", community=COMMUNITY, cadence="monthly")
        )
        fw.run(fw.advance(timedelta(days=40), steps=4))
        fw.check_since(mark, "invitations after the fuzzing")
        bot = fw.world.bot
        assert bot is not None
        service = bot.services.get(ValueStoryService)
        now = bot.clock.now()

        async def ways_out() -> None:
            community = await bot.communities.by_name(fw.world.guild.id, COMMUNITY)
            assert community is not None
            start = now - timedelta(days=400)
            await service.shareable_between(community.id, start, now)
            await service.all_between(community.id, start, now)

        fw.run(ways_out())
        fw.check_since(type(mark)(0, 0, 0, 0), "the whole run")
