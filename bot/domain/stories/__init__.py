"""Stories: consent, what may leave a community, stages, telling, prompts and cadence.

Pure logic with no Discord or database code; :mod:`bot.services.stories` and the repository
call it. One module per concern:

* :mod:`.consent`: consent levels, the stored record, and :func:`shareable_view`, the **only**
  way story content may leave its community;
* :mod:`.stages`: the configured stage taxonomy (forum tags);
* :mod:`.capture`: validating a story, titles for saved messages, credit inside the
  community, and the audience of a story saved from a circle or private thread;
* :mod:`.prompts`: which prompt comes next;
* :mod:`.cadence`: prompt schedules, due times and catch-up after downtime.

Everything is re-exported here, so ``from bot.domain.stories import X`` keeps working.
"""

from __future__ import annotations

from bot.domain.stories.cadence import (
    Cadence,
    PromptSchedule,
    catch_up_run,
    describe_schedule,
    missed_run,
    next_due,
    parse_cadence,
    parse_time_of_day,
    parse_weekday,
)
from bot.domain.stories.capture import (
    ANONYMOUS_CREDIT,
    AUTO_TITLE_LIMIT,
    NO_STAGE_LABEL,
    TEXT_LIMIT,
    TITLE_LIMIT,
    audience_channel,
    auto_title,
    credit_inside,
    validate_captured,
    validate_story,
)
from bot.domain.stories.consent import (
    CONSENT_DESCRIPTIONS,
    Consent,
    SharedStory,
    StoryPost,
    StoryRecord,
    parse_consent,
    shareable_view,
)
from bot.domain.stories.prompts import next_prompt
from bot.domain.stories.stages import (
    AUTOCOMPLETE_LIMIT,
    DEFAULT_STAGES,
    MAX_STAGES,
    STAGE_LABEL_LIMIT,
    Stage,
    Stages,
    slugify,
)

__all__ = [
    "ANONYMOUS_CREDIT", "AUTOCOMPLETE_LIMIT", "AUTO_TITLE_LIMIT", "CONSENT_DESCRIPTIONS",
    "DEFAULT_STAGES", "MAX_STAGES", "NO_STAGE_LABEL", "STAGE_LABEL_LIMIT", "TEXT_LIMIT",
    "TITLE_LIMIT", "Cadence", "Consent", "PromptSchedule", "SharedStory", "Stage", "Stages",
    "StoryPost", "StoryRecord", "audience_channel", "auto_title", "catch_up_run",
    "credit_inside", "describe_schedule", "missed_run", "next_due", "next_prompt",
    "parse_cadence", "parse_consent", "parse_time_of_day", "parse_weekday", "shareable_view",
    "slugify", "validate_captured", "validate_story",
]
