"""`--state FILE`: an append-only journal of closed ledgers, replayed at start.

Each ledger close appends one frame (the ledger, its transactions and operations, and the
entries it changed), so a close costs what changed rather than the whole history. A frame
is `length (4 bytes) | crc32 (4 bytes) | pickle`; a torn or corrupt tail (the process died
mid-write) is cut off at load, so the file always holds whole ledgers.

The file is pickle: it is the sandbox's own scratch file, trusted like any local database,
and readable only by the Killick version family that wrote it (FORMAT guards that).
"""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .history import LedgerRecord, OperationRecord, TransactionRecord
from .state import Account, ClaimableBalance

MAGIC = b"KILLICK-SANDBOX-STATE\n"
FORMAT = 1
_HEADER = struct.Struct(">II")


class StateFileError(Exception):
    """The state file cannot be used (other network, other format, not a state file)."""


@dataclass
class LedgerFrame:
    ledger: LedgerRecord
    transactions: list[TransactionRecord]
    operations: list[OperationRecord]
    accounts: dict[str, Account | None]
    balances: dict[str, ClaimableBalance | None]
    rates: list[dict[str, Any]] | None = None
    """The rate table, when it changed since the previous frame."""


@dataclass
class Header:
    format: int
    network_passphrase: str
    extra: dict[str, Any] = field(default_factory=dict)


class StateJournal:
    """Reads the frames already in a state file, then appends one per ledger close."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = None

    def read(self) -> tuple[Header | None, list[LedgerFrame]]:
        """Load what the file holds (nothing if it does not exist) and cut a torn tail."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None, []
        with self.path.open("rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise StateFileError(f"{self.path} is not a sandbox state file")
            objects, good_end = [], handle.tell()
            for obj, end in _frames(handle):
                objects.append(obj)
                good_end = end
        if good_end < self.path.stat().st_size:
            with self.path.open("r+b") as handle:
                handle.truncate(good_end)
        if not objects or not isinstance(objects[0], Header):
            raise StateFileError(f"{self.path} has no header")
        header = objects[0]
        if header.format != FORMAT:
            raise StateFileError(f"{self.path} has state format {header.format}, not {FORMAT}")
        return header, objects[1:]

    def open(self, header: Header | None) -> None:
        """Start appending; writes the header when the file is new."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._file = self.path.open("ab")
        if fresh:
            assert header is not None
            self._file.write(MAGIC)
            self.append(header)

    def append(self, obj: Header | LedgerFrame) -> None:
        assert self._file is not None, "journal not open"
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(_HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
        self._file.flush()  # in the OS's hands: survives the process, not a power cut

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


def _frames(handle: IO[bytes]) -> Iterator[tuple[Any, int]]:
    while True:
        head = handle.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        length, crc = _HEADER.unpack(head)
        payload = handle.read(length)
        if len(payload) < length or zlib.crc32(payload) != crc:
            return
        try:
            obj = pickle.loads(payload)  # noqa: S301 - the sandbox's own trusted file
        except Exception:
            return
        yield obj, handle.tell()
