"""Reading ``[votes]`` (issue #6) for ``bot.config``; the dataclass lives in ``config_schema``."""

from __future__ import annotations

from bot.config.reader import Section
from bot.config.schema import VotesConfig


def read_votes(s: Section) -> VotesConfig:
    config = VotesConfig(
        default_days=s.integer("default_days", VotesConfig.default_days),
        ballot_change=s.choice(
            "ballot_change", VotesConfig.ballot_change, ("allowed", "forbidden")
        ),
        remind_before_hours=s.integer("remind_before_hours", VotesConfig.remind_before_hours),
    )
    s.finish()
    return config
