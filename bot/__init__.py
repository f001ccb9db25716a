"""gridbot (网格通): closes the loop on residents' reports in grid-community group chats."""

import os

# Opt in to PTB's coming timedelta durations (RetryAfter.retry_after and friends) now, so the
# code is written once for v23 and PTB's deprecation warnings stay silent.
os.environ.setdefault("PTB_TIMEDELTA", "true")
