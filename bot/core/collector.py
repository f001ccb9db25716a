"""Python's cyclic garbage collector, paused while ``gridbot run`` loads (issue #15 item 5).

Starting the bot creates some 120,000 objects that live as long as the process: modules,
classes, functions, the handler table. The collector runs a generation-0 pass every 700 new
objects and rescans the survivors in older generations again and again, and none of it frees
anything: measured here, 6–10% of the CPU of importing the bot. So the run command pauses the
collector before its imports and, once the bot is built, freezes everything alive then (moved
to a permanent generation no later pass scans) and resumes it. Only the run command does
this: the other commands, the tests and the playground keep the collector as it is.
"""

from __future__ import annotations

import gc


def pause() -> None:
    """Stop cyclic collection until :func:`resume` (reference counting still frees most)."""
    gc.disable()


def resume() -> None:
    """Freeze what start-up created and collect again from here on (once; later calls and
    calls without a pause do nothing)."""
    if gc.isenabled():
        return
    gc.freeze()
    gc.enable()
