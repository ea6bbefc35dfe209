"""The far end of the test's ALSA ``file`` pcm: what the board played, at a speaker's pace.

ALSA's ``null`` pcm takes samples as fast as they come; piped through this reader, which
takes them no faster than ``rate`` bytes a second, the mixer is held to real time as by a
sound card, and every sample that reached ALSA is kept in a file for the test to read.

    python tests/alsa_sink.py OUT.raw BYTES_PER_SECOND < samples
"""

from __future__ import annotations

import os
import sys
import time


def main(out_path: str, rate: float) -> None:
    start = time.monotonic()
    got = 0
    with open(out_path, "wb", buffering=0) as out:
        while chunk := os.read(0, 4096):  # what ALSA wrote so far, as it comes
            out.write(chunk)
            got += len(chunk)
            ahead = got / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
