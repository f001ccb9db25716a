"""Intake (受理): a resident's message becomes a numbered issue with a category, a location and
a respond-by deadline; the group gets an acknowledgement, the grid workers the full card, and
emergencies and likely duplicates are flagged at once.

Three doors, one path (:meth:`ReportService._create`): a report in a grid group (hashtag,
``/report``, @mention, photo caption), the private guided flow, and a worker's ``/ticket``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.config import CategoryConfig
from bot.config.schema import DEFAULT_COMMUNITY
from bot.core.errors import InvalidInput
from bot.core.geo import Place
from bot.core.permissions import GridScope
from bot.issues.core import IssueCore, is_group
from bot.issues.emergency import EmergencyReading, read_emergency
from bot.issues.model import (
    Action,
    IssueType,
    IssueView,
    Notice,
    NoticeKind,
    Outcome,
    State,
)
from bot.issues.parsing import (
    Candidate,
    check_description,
    likely_duplicates,
    parse_location,
    services_tuple,
    split_hashtag,
    suggest_category,
)
from bot.issues.transcribe import Transcriber, VoiceNote, transcript
from storage.issues.albums import AlbumPart
from storage.issues.repo import NewIssue, ReporterRecord


@dataclass(frozen=True)
class Draft:
    """Everything the three doors collect before the issue exists."""

    grid: str
    type: IssueType
    description: str
    reporter: ReporterRecord
    actor_id: int
    action: Action
    category: CategoryConfig | None = None
    location: str | None = None
    photos: tuple[str, ...] = ()
    private: bool = False
    anonymous: bool = False
    voice: VoiceNote | None = None  # a voice note was the report (issue #18 item 2)
    place: Place | None = None  # the resident's location or venue (issue #18 item 3)


class ReportService:
    """The three doors of intake; the issue starts as 新报 with its first event."""

    def __init__(self, core: IssueCore, transcriber: Transcriber | None = None) -> None:
        self.core = core
        self.transcriber = transcriber

    async def report(
        self,
        *,
        chat_id: int,
        user_id: int,
        display_name: str,
        text: str,
        message_id: int | None = None,
        photos: Sequence[str] = (),
        issue_type: IssueType | None = None,
        voice: VoiceNote | None = None,
        place: Place | None = None,
    ) -> Outcome:
        """A report posted in a grid group; a leading hashtag (#投诉 …) sets the type.

        ``text`` is the message without the ``/report`` command or the bot's @mention.
        """
        grid = await self.core.grid_of_chat(chat_id)
        if grid is None:
            raise InvalidInput("issues.errors.not_bound")
        tagged, body = split_hashtag(text)
        reporter = ReporterRecord(user_id, display_name, chat_id, message_id, None)
        return await self._create(
            Draft(
                grid=grid.key,
                type=issue_type or tagged or IssueType.REPORT,
                description=body,
                reporter=reporter,
                actor_id=user_id,
                action=Action.REPORT,
                photos=tuple(photos),
                voice=voice,
                place=place,
            )
        )

    async def report_private(
        self,
        *,
        user_id: int,
        display_name: str,
        grid_key: str,
        description: str,
        issue_type: IssueType = IssueType.REPORT,
        category_key: str | None = None,
        location: str | None = None,
        photos: Sequence[str] = (),
        private: bool = True,
        anonymous: bool = False,
        album: str | None = None,
        voice: VoiceNote | None = None,
        place: Place | None = None,
    ) -> Outcome:
        """A report from the private guided flow; ``private`` (网格悄悄话) keeps it out of groups,
        ``anonymous`` also hides the reporter's name from the grid worker's card. ``album``: the
        media_group_id of the photos sent with it, kept part by part (:meth:`private_photo`)."""
        if self.core.config.grid_by_key(grid_key) is None:
            raise InvalidInput("issues.errors.unknown_grid", grid=grid_key)
        category = None
        if category_key is not None:
            category = self._category(category_key)
        reporter = ReporterRecord(user_id, display_name, user_id, None, None)
        draft = Draft(
            grid=grid_key,
            type=issue_type,
            description=description,
            reporter=reporter,
            actor_id=user_id,
            action=Action.REPORT,
            category=category,
            location=location,
            photos=tuple(photos),
            private=private,
            anonymous=anonymous,
            voice=voice,
            place=place,
        )
        if album is None:
            return await self._create(draft)
        albums = self.core.repo.albums
        async with self.core.repo.db.transaction():
            kept = await albums.file_ids(user_id, album)
            outcome = await self._create(replace(draft, photos=(*photos, *kept)))
            await albums.link(user_id, album, outcome.issue.id)
        return outcome

    async def private_photo(
        self, *, user_id: int, message_id: int, media_group_id: str, file_id: str
    ) -> Outcome | None:
        """A photo sent to the bot privately, kept as a part of its album (a single photo is an
        album of one) until the report it belongs to is submitted; one arriving after that
        joins the issue and goes to the grid workers (issue #18 item 1)."""
        albums = self.core.repo.albums
        part = AlbumPart(user_id, media_group_id, message_id, user_id, file_id)
        async with self.core.repo.db.transaction():
            new = await albums.add_part(part, self.core.now())
            issue_id = await albums.issue_of(user_id, media_group_id)
            if issue_id is None or not new:
                return None
            await albums.link(user_id, media_group_id, issue_id)
            return await self._attach(issue_id, file_id)

    async def ticket_on_behalf(
        self,
        *,
        worker_id: int,
        chat_id: int,
        resident_id: int,
        resident_name: str,
        text: str,
        message_id: int | None = None,
        photos: Sequence[str] = (),
    ) -> Outcome:
        """A worker replies ``/ticket`` to a resident's message; the resident is the reporter."""
        grid = await self.core.grid_of_chat(chat_id)
        if grid is None:
            raise InvalidInput("issues.errors.not_bound")
        self.core.authorize(worker_id, Action.TICKET, GridScope(grid.key))
        tagged, body = split_hashtag(text)
        reporter = ReporterRecord(resident_id, resident_name, chat_id, message_id, None)
        draft = Draft(
            grid=grid.key,
            type=tagged or IssueType.REPORT,
            description=body,
            reporter=reporter,
            actor_id=worker_id,
            action=Action.TICKET,
            photos=tuple(photos),
        )
        return await self._create(draft)

    async def album_part(
        self,
        *,
        chat_id: int,
        user_id: int,
        display_name: str,
        message_id: int,
        media_group_id: str,
        file_id: str,
        text: str | None,
    ) -> Outcome | None:
        """One photo of a group album (issue #18 item 1); ``text`` is the report if this part
        carries the album's report caption.

        Each part is kept as it arrives, in the update's transaction. The report part files ONE
        issue with every photo kept so far, whichever part it is; a part arriving after that is
        attached to the issue. None while an album waits for its report (or is no report).
        """
        grid = await self.core.grid_of_chat(chat_id)
        if grid is None:
            if text is None:
                return None
            raise InvalidInput("issues.errors.not_bound")
        albums = self.core.repo.albums
        part = AlbumPart(chat_id, media_group_id, message_id, user_id, file_id)
        async with self.core.repo.db.transaction():
            new = await albums.add_part(part, self.core.now())
            issue_id = await albums.issue_of(chat_id, media_group_id)
            if issue_id is not None:
                if not new:
                    return None
                await albums.link(chat_id, media_group_id, issue_id)
                return await self._attach(issue_id, file_id)
            if text is None:
                return None
            outcome = await self.report(
                chat_id=chat_id,
                user_id=user_id,
                display_name=display_name,
                text=text,
                message_id=message_id,
                photos=await albums.file_ids(chat_id, media_group_id),
            )
            await albums.link(chat_id, media_group_id, outcome.issue.id)
        return outcome

    async def _attach(self, issue_id: int, file_id: str) -> Outcome:
        """A late album photo joins its issue; the grid workers get it (the card had fewer)."""
        await self.core.repo.add_photos(issue_id, [file_id], "report", self.core.now())
        record = await self.core.repo.by_id(issue_id)
        assert record is not None
        issue = await self.core.view(record)
        notices = self.core.to_workers(issue, NoticeKind.PHOTO_ADDED, photos=(file_id,))
        return self.core.outcome(issue, notices)

    def _category(self, key: str) -> CategoryConfig:
        category = self.core.config.category(key)
        if category is None:
            raise InvalidInput("issues.errors.unknown_category", category=key)
        return category

    def _community(self, grid: str) -> str:
        """Whose issue it is: the community of the grid it was reported in (issue #15)."""
        community = self.core.config.community_of_grid(grid)
        return community.key if community is not None else DEFAULT_COMMUNITY

    async def _create(self, draft: Draft) -> Outcome:
        voice = draft.voice
        if voice is None:
            description = check_description(draft.description, self.core.config)
        else:  # what was typed with it, else what the transcriber heard, else the voice alone
            said = draft.description.strip() or await transcript(self.transcriber, voice)
            description = check_description(said, self.core.config) if said else ""
        # The reporter keeps what they filed, should a merge move them (issue #13 item 11).
        reporter = replace(draft.reporter, report_type=draft.type.value, anonymous=draft.anonymous)
        category = draft.category or suggest_category(description, self.core.config)
        emergency = read_emergency(description, self.core.config)
        where = parse_location(f"{draft.location or ''} {description}")
        role = self.core.authorize(draft.actor_id, draft.action, GridScope(draft.grid))
        now = self.core.now()
        limit = self.core.limit_for(category.key, bool(emergency.live))
        async with self.core.repo.db.transaction():
            duplicates = await self._duplicates(
                draft.grid, category.key, where.building, description
            )
            record = await self.core.repo.create(
                NewIssue(
                    community=self._community(draft.grid),
                    type=draft.type.value,
                    category=category.key,
                    grid=draft.grid,
                    building=where.building,
                    unit=where.unit,
                    location=draft.location,
                    description=description,
                    urgent=bool(emergency.live),
                    private=draft.private,
                    anonymous=draft.anonymous,
                    source_chat_id=draft.reporter.chat_id,
                    source_message_id=draft.reporter.message_id,
                    reported_at=now,
                    respond_by=self.core.calendar.add(now, limit.respond),
                    voice_file_id=voice.file_id if voice else None,
                    voice_seconds=voice.seconds if voice else None,
                    latitude=draft.place.latitude if draft.place else None,
                    longitude=draft.place.longitude if draft.place else None,
                    place=draft.place.label if draft.place else None,
                ),
                reporter,
                draft.photos,
            )
            issue = IssueView.from_record(record)
            await self.core.repo.add_event(
                record.id,
                actor_id=draft.actor_id,
                actor_role=role.value,
                at=now,
                from_state=None,
                to_state=State.NEW.value,
                action=draft.action.value,
            )
        return self.core.outcome(issue, self._intake_notices(issue, emergency, duplicates))

    async def _duplicates(
        self, grid: str, category: str, building: str | None, description: str
    ) -> tuple[int, ...]:
        since = self.core.now() - timedelta(days=self.core.config.issues.duplicate_window_days)
        rows = await self.core.repo.duplicate_candidates(grid, since)
        draft = Candidate(0, category, building, description)
        return likely_duplicates(draft, rows, self.core.config)  # rows are Candidate's fields

    def _intake_notices(
        self,
        issue: IssueView,
        emergency: EmergencyReading,
        duplicates: tuple[int, ...],
    ) -> list[Notice]:
        """Ack where it was reported, the card to the workers, then emergency and duplicates.

        Only a live emergency is answered where it was reported; one in doubt (好像着火了)
        is for the workers to check, so a group is not alarmed by a worry (issue #13 item 9).
        """
        source = issue.source_chat_id
        ack = NoticeKind.ACK_GROUP if is_group(source) else NoticeKind.ACK_PRIVATE
        reply_to = issue.source_message_id
        notices = [
            Notice(ack, source, issue.number, state=issue.state, reply_to_message_id=reply_to)
        ]
        notices += self.core.to_workers(issue, NoticeKind.WORKER_CARD, action=Action.REPORT)
        if emergency.live:
            services = services_tuple(emergency.live)
            notices.append(
                Notice(
                    NoticeKind.EMERGENCY_REPLY,
                    source,
                    issue.number,
                    services=services,
                    reply_to_message_id=reply_to,
                )
            )
            notices += self.core.to_workers(issue, NoticeKind.EMERGENCY_ALERT, services=services)
        elif emergency.doubtful:
            services = services_tuple(emergency.doubtful)
            notices += self.core.to_workers(issue, NoticeKind.EMERGENCY_CHECK, services=services)
        if duplicates:
            notices += self.core.to_workers(issue, NoticeKind.DUPLICATE_HINT, related=duplicates)
        return notices
