"""``gridbot demo`` plays its scenes offline and prints a readable Chinese transcript."""

from __future__ import annotations

from bot.demo import run_demo


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
