"""Transcribing voice reports (issue #18 item 2): pluggable, off by default, no model shipped.

A deployment that wants transcripts names a transcriber in ``[issues] transcriber``: one
registered in :data:`TRANSCRIBERS` or published by an installed package under the entry-point
group ``gridbot.transcribers`` (a factory taking the config). Without one, a voice report is
filed as the voice note alone and the grid worker types its gist with ``/note``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol

from bot.config import Config

log = logging.getLogger(__name__)

ENTRY_POINTS = "gridbot.transcribers"


@dataclass(frozen=True)
class VoiceNote:
    """A resident's voice note: its Telegram file id, its length, and how to fetch the audio
    (OGG/Opus), which is downloaded only if a transcriber asks for it."""

    file_id: str
    seconds: int
    fetch: Callable[[], Awaitable[bytes]]


class Transcriber(Protocol):
    async def transcribe(self, audio: bytes, seconds: int) -> str | None:
        """The words spoken (Chinese, as written), or None when it could not tell."""


TranscriberFactory = Callable[[Config], Transcriber]
TRANSCRIBERS: dict[str, TranscriberFactory] = {}


def transcriber_for(config: Config) -> Transcriber | None:
    """The configured transcriber; None when ``[issues] transcriber`` is empty (the default).

    A name no transcriber answers to is a configuration error, raised at start-up."""
    name = config.issues.transcriber
    if not name:
        return None
    factory = TRANSCRIBERS.get(name)
    if factory is None:
        found = entry_points(group=ENTRY_POINTS, name=name)
        if not found:
            raise ValueError(f"[issues] transcriber = {name!r}: no such transcriber installed")
        factory = next(iter(found)).load()
    return factory(config)


async def transcript(transcriber: Transcriber | None, voice: VoiceNote) -> str:
    """The voice note's words, or '' (no transcriber, nothing understood, or it failed: the
    report is filed anyway and the worker listens to it)."""
    if transcriber is None:
        return ""
    try:
        return (await transcriber.transcribe(await voice.fetch(), voice.seconds) or "").strip()
    except Exception:  # a plug-in's failure must not lose the report
        log.exception("transcribing a voice report failed")
        return ""
