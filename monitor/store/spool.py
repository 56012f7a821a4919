"""The spool: readings taken since the last database commit, appended to a small file every batch window.

Why: an SD card wears with every byte written, and SQLite writes whole pages. A commit of two lux readings
rewrites the table's last leaf page, the heartbeat's page and more: about 440 MB a day at one commit every
2 s (``bench/bench_durability.py``). Appending the same readings here costs about 100 bytes each. The
bridge appends every ``batch_seconds`` (what a crash may lose) and commits to the database every
``commit_seconds`` (what the API lags behind), then empties the spool. At start the bridge replays what a
crash left here; readings already committed are dropped by the engine as not newer than its ledger tail.

A line holds all the batch will commit, not only readings: their spectra, data gaps, and for the serial path
the frames the readings came in with each device boot's clock offset and acknowledgement mark, and the
totals of refused input. Without the frames a replay stored a microcontroller's readings but not which
frames they were; the device, never acknowledged, sent them again and the host, its clock offset refined
meanwhile, stored the same reading a second time a few milliseconds apart.

One line per append, JSON with exact float round-trips. A line torn by a power cut mid-write (the last one)
is skipped and reported; nothing before it is lost.
"""

from __future__ import annotations

import json
import os
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from monitor.batch import Batch, DataGap, LightReading, SensorFault, TemperatureReading
from monitor.errors import StoreError
from monitor.model.spectral import SpectralCounts
from monitor.store.serial_links import BootRecord, FrameKey

# json.dumps with any option builds a new encoder at each call; the bridge appends every couple of seconds
# all day, so one is built here, once (the same options: the same bytes).
_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Replay:
    batch: Batch
    torn_lines: int  # lines that could not be read (a write cut short), skipped


def _spectrum(s: SpectralCounts | None) -> list[object] | None:
    if s is None:
        return None
    return [
        s.chip,
        list(s.channels),
        list(s.counts),
        s.gain,
        s.integration_ms,
        s.saturated,
        s.near_uv_w_per_m2,
    ]


def _line(part: Batch) -> bytes:
    record: dict[str, list[Any]] = {
        "l": [
            [r.sensor_key, r.ts, r.lux, r.saturated, list(r.raw_counts), r.gain, r.integration_ms]
            + ([] if r.spectrum is None else [_spectrum(r.spectrum)])
            for r in part.light
        ],
        "t": [[r.sensor_key, r.ts, r.celsius, r.relative_humidity_percent] for r in part.temperature],
        "f": [[f.sensor_key, f.ts, f.kind, f.detail] for f in part.faults],
        "g": [astuple(g) for g in part.gaps],
        "s": [astuple(k) for k in part.frames],
        # Each device boot's state and the refusal totals as of this line: the last line's stand.
        "b": [astuple(b) for b in part.boots.values()],
        "r": [[port, kind, n] for (port, kind), n in part.serial_rejects.items()],
    }
    # The bridge appends every couple of seconds for years: keys with nothing in them are left out.
    record = {k: v for k, v in record.items() if v or k in ("l", "t", "f")}
    return (_ENCODER.encode(record) + "\n").encode()


def _light(entry: list[Any]) -> LightReading:
    k, ts, lux, sat, counts, gain, it, *rest = entry
    spectrum = None
    if rest and rest[0] is not None:
        chip, channels, sc, sgain, sit, ssat, near_uv = rest[0]
        spectrum = SpectralCounts(
            str(chip),
            tuple(str(c) for c in channels),
            tuple(int(c) for c in sc),
            float(sgain),
            float(sit),
            bool(ssat),
            None if near_uv is None else float(near_uv),
        )
    return LightReading(
        str(k), float(ts), float(lux), bool(sat), tuple(int(c) for c in counts), gain, it, spectrum
    )


def _merge(batch: Batch, record: dict[str, Any]) -> None:
    """Add one line to ``batch``, or raise (and add nothing) if any of it cannot be read."""
    light = [_light(e) for e in record["l"]]
    temp = [TemperatureReading(str(k), float(ts), float(c), rh) for k, ts, c, rh in record["t"]]
    faults = [SensorFault(str(k), float(ts), str(kind), str(d)) for k, ts, kind, d in record["f"]]
    # Lines written before the spool held the serial bookkeeping have none of it.
    gaps = [DataGap(str(k), float(a), float(b), str(why)) for k, a, b, why in record.get("g", [])]
    keys = [FrameKey(str(d), str(b), int(seq), float(ts)) for d, b, seq, ts in record.get("s", [])]
    boots = [
        BootRecord(str(d), str(b), float(off), int(acked), str(fw), float(seen))
        for d, b, off, acked, fw, seen in record.get("b", [])
    ]
    rejects = {(str(port), str(kind)): int(n) for port, kind, n in record.get("r", [])}
    batch.light.extend(light)
    batch.temperature.extend(temp)
    batch.faults.extend(faults)
    batch.gaps.extend(gaps)
    batch.frames.extend(keys)
    batch.boots.update({(b.device_id, b.boot_id): b for b in boots})
    batch.serial_rejects.update(rejects)


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

    def append(self, part: Batch) -> int:
        """Append one line holding ``part``: what the batch took since the last append, with its boots' and
        refusal totals' current stand. Returns the bytes written. One ``write``: never interleaved."""
        data = _line(part)
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
            _merge(batch, json.loads(raw))
        except (ValueError, KeyError, TypeError):
            torn += 1
    return Replay(batch, torn)
