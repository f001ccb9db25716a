"""Meetings (issue #6): the form, who may convene, where it is announced, the sign-in window,
and the sweep's reminders recorded once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.consult.meetings_model import parse_form, parse_scope
from bot.consult.sweep import ConsultKind
from bot.core.errors import UserError
from storage.schedule.runs import ScheduleRepo
from tests.support import factories as f
from tests.support.consult import consult_world

NOW = datetime(2025, 3, 5, 10, 0, tzinfo=f.SHANGHAI)
FORM = "电梯协商会 | 3月10日19:00 | 活动室 | 1. 方案 2. 费用 | 1-2 | 邀请 501 502"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("社区", ("community", ""), id="community"),
        pytest.param("第二网格", ("grid", "g2"), id="grid-name"),
        pytest.param("g1", ("grid", "g1"), id="grid-key"),
        pytest.param("3号楼2单元", ("unit", "3-2"), id="unit"),
        pytest.param("3号楼", ("building", "3"), id="building"),
    ],
)
def test_parse_scope(text: str, expected: tuple[str, str]) -> None:
    assert parse_scope(text, f.make_config()) == expected


def test_parse_form_defaults_the_end_and_reads_agenda_and_invitees() -> None:
    new = parse_form(FORM, NOW, f.make_config())
    assert new.ends_at - new.starts_at == timedelta(minutes=120)
    assert new.agenda == ("方案", "费用")
    assert (new.scope_kind, new.scope_value, new.invited) == ("unit", "1-2", (501, 502))
    with pytest.raises(UserError, match="form"):
        parse_form("电梯协商会 | 3月10日19:00", NOW, f.make_config())
    with pytest.raises(UserError, match="past"):
        parse_form(FORM.replace("3月10日", "2025年3月1日"), NOW, f.make_config())


async def test_only_staff_convene_and_a_unit_is_announced_in_its_grid(tmp_path: Path) -> None:
    async with consult_world(tmp_path) as w:
        with pytest.raises(UserError, match="only_staff"):
            await w.meetings.create(f.RESIDENT, FORM)
        with pytest.raises(UserError, match="only_staff"):
            await w.meetings.create(f.WORKER_G2, FORM)  # unit 1-2 is in grid g1
        created = await w.meetings.create(f.WORKER_G1, FORM)
        assert created.chats == (f.G1_CHAT,)
        assert set(created.view.invitees) == {501, 502}
        with pytest.raises(UserError, match="unknown_place"):
            await w.meetings.create(f.SECRETARY, FORM.replace("1-2", "9-9"))


async def test_sign_in_only_inside_the_window(tmp_path: Path) -> None:
    async with consult_world(tmp_path) as w:
        number = (await w.meetings.create(f.WORKER_G1, FORM)).view.id
        for moment, allowed in [
            (datetime(2025, 3, 10, 18, 29, tzinfo=f.SHANGHAI), False),
            (datetime(2025, 3, 10, 18, 30, tzinfo=f.SHANGHAI), True),
            (datetime(2025, 3, 10, 21, 1, tzinfo=f.SHANGHAI), False),
        ]:
            w.clock.set(moment)
            if allowed:
                await w.meetings.sign_in(number, f.NEIGHBOUR, "孙大爷")
            else:
                with pytest.raises(UserError, match="sign_in_closed"):
                    await w.meetings.sign_in(number, f.RESIDENT, "王阿姨")
        assert [p.user_id for p in (await w.meetings.view(number)).attended] == [f.NEIGHBOUR]


async def test_reminders_once_and_not_for_moments_before_creation(tmp_path: Path) -> None:
    async with consult_world(tmp_path) as w:
        w.clock.set(datetime(2025, 3, 9, 12, 0, tzinfo=f.SHANGHAI))  # 31 h before: no 48 h one
        number = (await w.meetings.create(f.WORKER_G1, FORM)).view.id
        await w.meetings.sign_up(number, f.STRANGER, "路人甲")
        sent = []
        moment = w.clock.now()
        while moment < datetime(2025, 3, 10, 19, 0, tzinfo=f.SHANGHAI):
            moment += timedelta(minutes=30)
            sent += [(moment, n) for n in await w.sweep.sweep(moment)]
        assert [(at.hour, n.kind, n.hours) for at, n in sent] == [(17, ConsultKind.REMIND, 2)]
        assert set(sent[0][1].meeting.invitees) == {501, 502, f.STRANGER}  # type: ignore[union-attr]
        runs = {r.key: r.outcome for r in await ScheduleRepo(w.db).runs("meeting")}
        assert runs == {
            f"meeting:{number}:remind:48h": "missed",
            f"meeting:{number}:remind:2h": "sent",
        }
