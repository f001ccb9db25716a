"""The sender's rate windows (bot/transport/ratelimit.py) on the Clock's seconds."""

from __future__ import annotations

from bot.transport.ratelimit import Limits, RateLimiter

GROUP, PRIVATE = -1001, 501
DAY = 86_400.0


def test_a_full_group_window_frees_a_minute_after_its_first_send() -> None:
    limiter = RateLimiter(Limits(group_per_minute=2))
    limiter.record(GROUP, 1000.0)
    limiter.record(GROUP, 1010.0)
    assert limiter.wait(GROUP, 1020.0) == 40.0
    assert limiter.wait(GROUP, 1060.0) == 0.0


def test_a_clock_set_back_does_not_stall_a_chat_until_the_old_time_returns() -> None:
    """A test moves its fake clock to an earlier day (or the system clock is corrected):
    sends recorded at the later time count as now, not as sends a day in the future."""
    limiter = RateLimiter(Limits(group_per_minute=2, private_per_second=1))
    limiter.record(GROUP, 10 * DAY)
    limiter.record(GROUP, 10 * DAY + 1)
    limiter.record(PRIVATE, 10 * DAY)
    earlier = 9 * DAY
    assert limiter.wait(GROUP, earlier) == 60.0  # the window as it would be at that moment
    assert limiter.wait(PRIVATE, earlier) == 1.0


def test_a_pause_lasts_its_length_even_when_the_clock_goes_back() -> None:
    limiter = RateLimiter(Limits())
    limiter.pause(GROUP, 10 * DAY + 30, 10 * DAY)  # a 429 with retry_after 30
    assert limiter.wait(GROUP, 9 * DAY) == 30.0
    assert limiter.wait(GROUP, 9 * DAY + 30) == 0.0
