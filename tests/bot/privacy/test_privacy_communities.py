"""/mydata and /forget cover a person in every community (issue #15 item 1): one bot, one
database, a resident who reported in both 阅海湾 and 金沙湖."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_features
from bot.core.rendering import Renderer
from storage.db import Database
from tests.support import factories as f

NAME = "欧阳秀兰"


async def test_mydata_and_forget_reach_both_communities(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        found = await build_features(db, f.FakeClock(), f.make_two_communities(), Renderer())
        for chat, text in ((f.G1_CHAT, "#报事 3号楼路灯坏了"), (f.H1_CHAT, "#报事 8号楼门禁坏了")):
            await found.issues.report(
                chat_id=chat, user_id=f.RESIDENT, display_name=NAME, text=text
            )
        mine = await found.personal_data.my_data(f.RESIDENT)
        await found.personal_data.forget(f.RESIDENT)
        await found.personal_data.wait_checkpoints()
        left = await db.fetchall("SELECT display_name FROM issue_reporters")
    finally:
        await db.close()

    assert sorted(r["community"] for r in mine.sections["reports"]) == ["jsh", "yhw"]
    assert [r[0] for r in left] and all(NAME not in r[0] for r in left)
