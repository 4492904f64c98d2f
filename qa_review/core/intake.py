"""When a file in a watched folder is complete: pure bookkeeping over what each scan saw.

A PBX writes a recording for the length of the call, or copies it over a
slow share; ingesting it half-written would store a cut call. A file is
taken once its size and modification time have stayed the same for
``settle_s`` seconds; one whose modification time is already that old when
first seen (after a restart, or from cron) is taken at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Stamp = tuple[int, float]  # (size, mtime)


@dataclass
class Settling:
    settle_s: float
    _seen: dict[str, tuple[Stamp, float]] = field(default_factory=dict)  # path -> (stamp, first seen unchanged at)

    def ready(self, files: dict[str, Stamp], now: float) -> list[str]:
        """The files complete at ``now``, in name order; each is returned until it is forgotten."""
        out = []
        for path, stamp in sorted(files.items()):
            size, mtime = stamp
            prev = self._seen.get(path)
            since = prev[1] if prev and prev[0] == stamp else now
            self._seen[path] = (stamp, since)
            if size > 0 and (now - mtime >= self.settle_s or now - since >= self.settle_s):
                out.append(path)
        for gone in set(self._seen) - set(files):
            del self._seen[gone]
        return out
