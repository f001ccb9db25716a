"""/metrics exports 按期办结率 beside the three rates (issue #18 item 4)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.app import build
from bot.issues.presenter import issue_service
from bot.ops.health import HealthChecks
from tests.support import factories as f
from tests.support.harness import sandbox_world


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=f.SHANGHAI)


async def test_metrics_export_the_on_time_rate_over_30_days(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path) as world:
        clock = f.FakeClock(at(2, 9))
        gridbot = await build(world.config, clock=clock)  # not started: the service is enough
        try:
            services = gridbot.services
            issues = issue_service(services)
            checks = HealthChecks(services, gridbot.intake, world.config.metrics)
            before = (await checks.metrics()).decode()
            reports = (("#报事 3号楼路灯坏了", at(3, 18)), ("#报事 5号楼电梯停运", at(3, 9)))
            for text, due in reports:
                clock.set(at(2, 9))
                outcome = await issues.report(
                    chat_id=f.G1_CHAT, user_id=f.RESIDENT, display_name="王阿姨", text=text
                )
                number = outcome.issue.number
                await issues.assign(f.WORKER_G1, number, "property", resolve_by=due)
                clock.set(at(3, 10))  # the first on time, the second an hour late
                await issues.handler_resolve(f.PROPERTY_USER, number, "已处理")
            clock.set(at(3, 11))
            after = (await checks.metrics()).decode()
        finally:
            await gridbot.db.close()

    assert 'rate="on_time_rate"' not in before  # absent without resolutions
    assert 'gridbot_rate_30d{community="阅海湾社区",rate="on_time_rate"} 0.5' in after
