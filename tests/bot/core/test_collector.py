"""The run command's collector pause (bot.core.collector, issue #15 item 5), in a fresh
interpreter: freezing objects in this test process would outlive the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import gc, json
from bot.core import collector

seen = {"at_start": gc.isenabled()}
collector.pause()
seen["paused"] = gc.isenabled()
kept = [[n] for n in range(50_000)]  # what start-up creates and keeps
collector.resume()
seen["resumed"] = gc.isenabled()
seen["frozen"] = gc.get_freeze_count()
collector.resume()  # a second call changes nothing
seen["frozen_again"] = gc.get_freeze_count()
print(json.dumps(seen))
"""


def test_pause_then_resume_freezes_what_start_up_kept_and_collects_again() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    seen = json.loads(result.stdout)
    assert seen["at_start"] is True and seen["paused"] is False and seen["resumed"] is True
    assert seen["frozen"] >= 50_000
    assert seen["frozen_again"] == seen["frozen"]
