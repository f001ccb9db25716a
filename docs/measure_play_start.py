"""How long from running ``gridbot play`` until its page answers (issue #14: under 5 s).

Run after ``pip install -e .``:  python docs/measure_play_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import time
import urllib.request


def once(port: int) -> float:
    start = time.monotonic()
    play = subprocess.Popen(
        ["gridbot", "play", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as page:
                    page.read()
                return time.monotonic() - start
            except OSError:
                if play.poll() is not None:
                    raise RuntimeError("gridbot play exited before its page answered") from None
                time.sleep(0.05)
    finally:
        play.send_signal(signal.SIGINT)
        play.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    times = [once(args.port) for _ in range(args.runs)]
    print("gridbot play → page answering: " + ", ".join(f"{t:.1f} s" for t in times))


if __name__ == "__main__":
    main()
