"""The spool: readings taken since the last database commit, appended to a small file every batch window.

Why: an SD card wears with every byte written, and SQLite writes whole pages. A commit of two lux readings
rewrites the table's last leaf page, the heartbeat's page and more: about 440 MB a day at one commit every
2 s (``bench/bench_durability.py``). Appending the same readings here costs about 100 bytes each. The
bridge appends every ``batch_seconds`` (what a crash may lose) and commits to the database every
``commit_seconds`` (what the API lags behind), then empties the spool. At start the bridge replays what a
crash left here; readings already committed are dropped by the engine as not newer than its ledger tail.

One line per append, JSON with exact float round-trips. A line torn by a power cut mid-write (the last one)
is skipped and reported; nothing before it is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.engine import Batch, LightReading, SensorFault, TemperatureReading
from monitor.errors import StoreError


@dataclass(frozen=True, slots=True)
class Replay:
    batch: Batch
    torn_lines: int  # lines that could not be read (a write cut short), skipped


def _line(
    light: Sequence[LightReading], temp: Sequence[TemperatureReading], faults: Sequence[SensorFault]
) -> bytes:
    record = {
        "l": [
            [r.sensor_key, r.ts, r.lux, r.saturated, list(r.raw_counts), r.gain, r.integration_ms]
            for r in light
        ],
        "t": [[r.sensor_key, r.ts, r.celsius, r.relative_humidity_percent] for r in temp],
        "f": [[f.sensor_key, f.ts, f.kind, f.detail] for f in faults],
    }
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


class Spool:
    """An append-only file beside the database (``<db>.spool``), opened by the bridge, its only writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the spool {path}: {exc}") from exc

    @staticmethod
    def beside(db_path: Path) -> Path:
        return db_path.with_name(db_path.name + ".spool")

    def append(
        self,
        light: Sequence[LightReading],
        temp: Sequence[TemperatureReading] = (),
        faults: Sequence[SensorFault] = (),
    ) -> int:
        """Append one line holding these; returns the bytes written. One ``write``: never interleaved."""
        if not (light or temp or faults):
            return 0
        data = _line(light, temp, faults)
        try:
            written = os.write(self._fd, data)
        except OSError as exc:
            raise StoreError(f"cannot append to the spool {self.path}: {exc}") from exc
        if written != len(data):  # a full disk part-way: the line is torn, say so now
            raise StoreError(f"spool {self.path}: wrote {written} of {len(data)} bytes (disk full?)")
        return written

    def clear(self) -> None:
        """Everything spooled is committed: empty the file (metadata only, no data written)."""
        try:
            os.ftruncate(self._fd, 0)
        except OSError as exc:
            raise StoreError(f"cannot empty the spool {self.path}: {exc}") from exc

    def close(self) -> None:
        os.close(self._fd)


def read_spool(path: Path) -> Replay:
    """Everything in the spool at ``path`` as one batch (the engine keeps only what is newer than its
    ledger); no file is an empty batch."""
    batch = Batch()
    torn = 0
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return Replay(batch, 0)
    except OSError as exc:
        raise StoreError(f"cannot read the spool {path}: {exc}") from exc
    for raw in text.splitlines():
        try:
            record = json.loads(raw)
            light = [
                LightReading(
                    str(k), float(ts), float(lux), bool(sat), tuple(int(c) for c in counts), gain, it
                )
                for k, ts, lux, sat, counts, gain, it in record["l"]
            ]
            temp = [TemperatureReading(str(k), float(ts), float(c), rh) for k, ts, c, rh in record["t"]]
            faults = [SensorFault(str(k), float(ts), str(kind), str(d)) for k, ts, kind, d in record["f"]]
        except (ValueError, KeyError, TypeError):
            torn += 1
            continue
        batch.light.extend(light)
        batch.temperature.extend(temp)
        batch.faults.extend(faults)
    return Replay(batch, torn)
