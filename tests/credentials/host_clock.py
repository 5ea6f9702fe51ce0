"""One wall clock for the test, the emulator and a provider host subprocess, moved forward on demand.

Refresh margins are minutes long: a test cannot wait them out. The host runs in its own process, so a
``sitecustomize`` put first on its ``PYTHONPATH`` replaces ``time.time`` by the real time plus the offset written
in a file the test controls (read at every call). Only the wall clock moves (expirations, signing timestamps);
monotonic waits keep the real pace. The emulator takes the same clock object, so both sides agree on the time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

OFFSET_VARIABLE = "GA_TEST_WALL_CLOCK_OFFSET_FILE"
_SITECUSTOMIZE = f'''"""Test support: the wall clock of this process runs ahead by the offset in ${OFFSET_VARIABLE}."""
import os
import time

_path = os.environ.get("{OFFSET_VARIABLE}")
if _path:
    _real = time.time

    def _shifted() -> float:
        try:
            with open(_path, encoding="ascii") as handle:
                return _real() + float(handle.read() or 0)
        except (OSError, ValueError):
            return _real()

    time.time = _shifted
'''


class HostClock:
    """``clock()`` is the shifted wall clock; :meth:`advance` moves it for this process and every host started
    with :meth:`env`."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
        self.folder, self.file, self.offset = folder, folder / "offset", 0.0
        self.file.write_text("0", encoding="ascii")

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.file.write_text(repr(self.offset), encoding="ascii")

    def env(self) -> dict[str, str]:
        """What a host's environment needs to run on this clock."""
        path = os.pathsep.join(p for p in (str(self.folder), os.environ.get("PYTHONPATH", "")) if p)
        return {"PYTHONPATH": path, OFFSET_VARIABLE: str(self.file)}
