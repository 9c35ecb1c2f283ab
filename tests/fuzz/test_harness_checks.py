"""The fuzz harness's literal-text check catches what it is meant to catch (and nothing the
bot legitimately sends), so a clean fuzz run means something."""

from __future__ import annotations

from tests.fuzz.harness import plain_text_problems

RLO = "\u202e"


def test_flags_hazards_in_every_literal_place() -> None:
    message = {
        "content": f"content is Markdown, checked elsewhere {RLO}",
        "embeds": [{"title": f"t{RLO}", "footer": {"text": "f\u200b"},
                    "author": {"name": "a\x1b"},
                    "fields": [{"name": "n\u2066", "value": f"values are Markdown {RLO}"}]}],
        "components": [{"type": 1, "components": [
            {"type": 2, "label": "b\nc"},
            {"type": 3, "placeholder": "p\x00",
             "options": [{"label": "o\u2069", "value": "0", "description": "d\ufeff"}]},
        ]}],
        "attachments": [{"id": 0, "filename": f"x{RLO}.ics"}],
    }
    problems = plain_text_problems("POST", "/channels/1/messages", message)
    kinds = ["embed title", "embed footer", "embed author", "embed field name",
             "component label", "component placeholder", "select option label",
             "select option description", "attachment filename"]
    for kind in kinds:
        assert any(kind in p for p in problems), (kind, problems)
    assert len(problems) == len(kinds)  # content and field values are not literal places

    modal = {"type": 9, "data": {"title": f"Notes: {RLO}x", "custom_id": "m",
                                 "components": []}}
    assert "modal title" in plain_text_problems("POST", "/interactions/5/tok/callback", modal)[0]
    auto = {"type": 8, "data": {"choices": [{"name": "ok", "value": "1"},
                                            {"name": f"#2 {RLO}", "value": "2"}]}}
    assert len(plain_text_problems("POST", "/interactions/5/tok/callback", auto)) == 1
    thread = {"name": f"story{RLO}", "message": {"embeds": [{"title": "\u2067"}]}}
    assert len(plain_text_problems("POST", "/channels/9/threads", thread)) == 2
    event = {"name": "M\u200b", "description": f"line\n\nHearth meeting #1{RLO}",
             "entity_metadata": {"location": "Hall\n2"}}
    got = plain_text_problems("POST", "/guilds/3/scheduled-events", event)
    assert [p.split(" carries")[0].rsplit(" ", 2)[-2:] for p in got] == [
        ["event", "name"], ["event", "description"], ["event", "location"]]
    assert plain_text_problems("GET", "/channels/9/messages", None, [f"a{RLO}.md"])


def test_passes_what_the_bot_legitimately_sends() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    message = {"embeds": [{"title": f"Poll: Which day? {family}", "footer": {"text": "x · y"},
                           "fields": [{"name": "**Monday**", "value": "a\nb"}]}],
               "components": [{"type": 1, "components": [{"type": 2, "label": "Vote"}]}]}
    assert plain_text_problems("POST", "/channels/1/messages", message) == []
    event = {"name": "Spring gathering", "description": "Carers meeting.\n\nHearth meeting #4",
             "entity_metadata": {"location": "Online"}}
    assert plain_text_problems("PATCH", "/guilds/3/scheduled-events/7", event) == []
    assert plain_text_problems("POST", "/channels/1/messages", None, ["meeting-4.ics"]) == []
