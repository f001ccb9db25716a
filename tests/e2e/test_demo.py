"""``gridbot demo`` plays its scenes offline and prints a readable Chinese transcript."""

from __future__ import annotations

import re

from bot.demo import PEOPLE, run_demo


async def test_demo_prints_a_chinese_transcript_and_exits_zero() -> None:
    lines: list[str] = []
    status = await run_demo(out=lines.append)
    transcript = "\n".join(lines)
    assert status == 0
    assert "【王阿姨】打开机器人" in transcript
    assert "网格通 → 与王阿姨的私聊：您好，王阿姨" in transcript
    assert "网格通 → 阅海湾第一网格群：网格通 使用说明" in transcript
    assert "<b>" not in transcript  # HTML is shown as a person sees it
    # The full story of the closed loop plays out, ending with the satisfied rating.
    for line in (
        "网格通 → 阅海湾第一网格群：已登记 #1｜报事｜路灯/市政设施｜3-2",
        "点击按钮 [去评价 #1]",
        "🔁 重办单",
        "评价完成，已关闭",
    ):
        assert line in transcript
    group_lines = [line for line in lines if "→ 阅海湾第一网格群" in line]
    assert group_lines and not any("孙建国" in line for line in group_lines)
    assert transcript.rstrip().endswith("演示结束。")


async def test_demo_plays_in_english_too() -> None:
    lines: list[str] = []
    assert await run_demo(locale="en", out=lines.append) == 0
    transcript = "\n".join(lines)
    assert "gridbot offline demo" in transcript
    assert transcript.rstrip().endswith("End of the demo.")


async def test_demo_in_english_shows_chinese_only_in_what_people_wrote() -> None:
    """Every Chinese run in the English transcript comes from data: a name, the community's own
    configuration (grids, handlers, categories) or what a person typed; none from the bot."""
    lines: list[str] = []
    assert await run_demo(locale="en", out=lines.append) == 0
    typed = [line.split("] ", 1)[1] for line in lines if line.startswith("[") and "] " in line]
    config = ["阅海湾社区", "第一网格", "阅海湾第一网格群", "万象美物业", "路灯/市政设施"]
    names = [name for pair in PEOPLE.values() for name in pair]
    hashtags = ["#报事", "#求助", "#投诉", "#举报", "#建议", "#咨询"]  # typed as they are
    data = "\n".join(typed + config + names + hashtags)
    bots = [line for line in lines if not line.startswith("[")]
    runs = {run for line in bots for run in re.findall(r"[\u3400-\u9fff]+", line)}
    assert sorted(run for run in runs if run not in data) == []
