"""Follow a log file incrementally: across rotation and truncation, in bounded memory.

Files are not held open between reads (on Windows an open handle would stop the agent from
rotating its log). Instead the inode and offset are remembered; when the path's inode changes,
the rest of the rotated file is found by its inode among its siblings, then the new file is
read from its start. A file present at start-up is followed from its end: history is not
re-counted after a restart.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20
MAX_LINE = 64 * 1024  # a longer "line" is cut: memory stays bounded whatever the file holds


class Tail:
    def __init__(self, path: Path):
        self.path = path
        self._inode: int | None = None
        self._offset = 0
        self._partial = b""
        self._started = False

    def _stat(self, path: Path) -> os.stat_result | None:
        try:
            return path.stat()
        except FileNotFoundError:
            return None

    def _rotated(self, inode: int) -> Path | None:
        for sibling in self.path.parent.glob(self.path.name + "*"):
            found = self._stat(sibling)
            if found and found.st_ino == inode and sibling != self.path:
                return sibling
        return None

    def _read(self, path: Path, offset: int) -> Iterator[str]:
        with open(path, "rb") as handle:
            handle.seek(offset)
            while chunk := handle.read(CHUNK):
                self._offset = handle.tell()
                *lines, self._partial = (self._partial + chunk).split(b"\n")
                if len(self._partial) > MAX_LINE:
                    lines.append(self._partial[:MAX_LINE])
                    self._partial = b""
                for line in lines:
                    yield line[:MAX_LINE].decode("utf-8", "replace")

    def lines(self) -> Iterator[str]:
        """Complete lines written since the last call. Raises OSError if the file can't be read."""
        current = self._stat(self.path)
        if not self._started:
            self._started = True
            if current is not None:
                self._inode, self._offset = current.st_ino, current.st_size
            return
        if current is None:
            return
        if current.st_ino != self._inode:
            old = self._rotated(self._inode) if self._inode is not None else None
            if old is not None:
                yield from self._read(old, self._offset)
            self._inode, self._offset, self._partial = current.st_ino, 0, b""
        elif current.st_size < self._offset:
            self._offset, self._partial = 0, b""
        yield from self._read(self.path, self._offset)
