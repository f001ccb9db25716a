"""The CPU a command and every process it starts use, including those that outlive their
parent (issue #12: the suite's CPU).

Chromium's renderers and zygote are not reaped by the process that launched the browser:
when the browser closes they are handed to PID 1, and their CPU never reaches the test run's
``/usr/bin/time`` (~12 s of the suite's CPU went uncounted so). This script makes itself the
"child subreaper" of what it runs (Linux's PR_SET_CHILD_SUBREAPER), so orphans come back to
it, reaps them all, and prints its children's CPU from ``getrusage``.

Run:  python docs/measure_tree_cpu.py python -m pytest -q
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(command: list[str]) -> int:
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("cannot become a subreaper here (Linux only): orphans go uncounted", file=sys.stderr)
    start = time.monotonic()
    code = subprocess.call(command)
    give_up = time.monotonic() + 10  # the orphans handed to us die with their browser
    while time.monotonic() < give_up:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                time.sleep(0.05)
        except ChildProcessError:
            break
    else:
        print("processes still running after 10 s are not counted", file=sys.stderr)
    wall = time.monotonic() - start
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime
    print(
        f"wall {wall:.1f} s, CPU {cpu:.1f} s (user {used.ru_utime:.1f} + system "
        f"{used.ru_stime:.1f}) in the command and every process it started",
        file=sys.stderr,
    )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
