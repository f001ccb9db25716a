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
    assert transcript.rstrip().endswith("演示结束。")
