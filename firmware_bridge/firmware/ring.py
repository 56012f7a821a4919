"""The RAM ring buffer of readings not yet acknowledged by the host.

Records are fixed 20-byte structs in one preallocated ``bytearray`` (a Python object per reading would cost
five times the RAM an RP2040 has to spare). Record ``seq`` lives in slot ``seq % capacity``. When the buffer
is full, appending overwrites the oldest record: the newest readings are worth more, and the loss is not
hidden, because every frame tells the host the oldest sequence number still held.

Runs on CircuitPython: no dataclasses, no typing at run time.
"""

import struct

# seq, captured_ms, kind (ord of the frame type), sensor index, aux, pad, value, a, b
RECORD_FORMAT = "<IIBBBxfHH"
RECORD_BYTES = 20
DEFAULT_CAPACITY = 4096  # 80 KiB: 62 minutes at one light reading a second plus one temperature every 10 s


class Ring:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("ring capacity must be at least 1")
        self.capacity = capacity
        self._buf = bytearray(capacity * RECORD_BYTES)
        self.oldest = 1  # the oldest sequence number held; equals next_seq when empty
        self.next_seq = 1
        self.overwritten = 0  # records lost to a full buffer since boot

    def __len__(self) -> int:
        return self.next_seq - self.oldest

    def append(self, kind: str, sensor: int, captured_ms: int, aux: int, value: float, a: int, b: int) -> int:
        """Store one record; returns its sequence number."""
        seq = self.next_seq
        if len(self) >= self.capacity:
            self.oldest += 1
            self.overwritten += 1
        struct.pack_into(
            RECORD_FORMAT,
            self._buf,
            (seq % self.capacity) * RECORD_BYTES,
            seq,
            captured_ms,
            ord(kind),
            sensor,
            aux,
            value,
            a,
            b,
        )
        self.next_seq = seq + 1
        return seq

    def get(self, seq: int) -> "tuple[int, int, str, int, int, float, int, int] | None":
        """``(seq, captured_ms, kind, sensor, aux, value, a, b)``, or None if not held."""
        if not self.oldest <= seq < self.next_seq:
            return None
        s, captured, kind, sensor, aux, value, a, b = struct.unpack_from(
            RECORD_FORMAT, self._buf, (seq % self.capacity) * RECORD_BYTES
        )
        return s, captured, chr(kind), sensor, aux, value, a, b

    def release_through(self, seq: int) -> int:
        """Forget every record up to and including ``seq`` (acknowledged); returns how many."""
        if seq < self.oldest:
            return 0
        new_oldest = min(seq + 1, self.next_seq)
        freed = new_oldest - self.oldest
        self.oldest = new_oldest
        return freed
