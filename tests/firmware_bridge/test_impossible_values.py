"""Readings no chip can report are refused at every entry: serial frames, the simulated and direct sensors,
a replayed spool; counted, alerted once, and never in a ledger."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_bridge import frames
from firmware_bridge.service import replay_spool
from hardware.clock import ManualClock
from hardware.fridge import Scenario
from hardware.simulated_sensors import SimulatedLightSensor
from monitor.batch import Batch, LightReading, TemperatureReading
from monitor.config import Settings
from monitor.integrity import check_database
from monitor.model.profiles import Catalog
from monitor.plausibility import OUT_OF_RANGE
from monitor.refused_readings import RULE
from monitor.store import serial_links
from monitor.store.spool import Spool
from tests.firmware_bridge.serial_rig import Rig
from tests.monitor.test_engine import open_engine, simulated_loop


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def _forged(rig: Rig, **values: float | None) -> bytes:
    """A frame the board could have sent next, with a valid CRC, carrying ``values``: as if a corrupted line
    had passed the CRC-16 (one in 65,536 does)."""
    d = rig.device
    seq, now = d.ring.next_seq, d.now_ms() % (1 << d.wrap_bits)
    if "celsius" in values:
        rh = values.get("rh")
        return frames.TemperatureData(
            d.device_id, d.boot_id, seq, now, d.ring.oldest, 1, now, float(values["celsius"] or 0.0), rh
        ).encode()
    lux, gain, it = values.get("lux", 50.0), values.get("gain", 25.0), values.get("it", 100.0)
    return frames.LightData(
        d.device_id,
        d.boot_id,
        seq,
        now,
        d.ring.oldest,
        0,
        now,
        lux or 0.0,
        False,
        gain or 0.0,
        it or 0.0,
        (1, 1),
    ).encode()


def _alerts(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT fingerprint, state FROM alerts WHERE rule = ? ORDER BY id", (RULE,)
    ).fetchall()
    return [(str(f), str(s)) for f, s in rows]


@pytest.mark.parametrize(
    ("values", "sensor"),
    [
        ({"lux": 1e30}, "fridge-1-lux"),
        ({"lux": 200_000.0}, "fridge-1-lux"),  # possible for an LTR390, not for the board's TSL2591
        ({"lux": 50.0, "gain": 0.0}, "fridge-1-lux"),
        ({"lux": 50.0, "gain": 3.0}, "fridge-1-lux"),  # not one of the TSL2591's gains
        ({"lux": 50.0, "it": -100.0}, "fridge-1-lux"),
        ({"celsius": -300.0}, "fridge-1-temp"),
        ({"celsius": 5000.0}, "fridge-1-temp"),
        ({"celsius": -50.0}, "fridge-1-temp"),  # a DS18B20 can say so, the board's MCP9808 cannot
        ({"celsius": 4.0, "rh": 150.0}, "fridge-1-temp"),
    ],
    ids=[
        "lux-astronomical",
        "lux-beyond-the-chip",
        "gain-zero",
        "gain-not-the-chips",
        "integration-negative",
        "below-absolute-zero",
        "thousands-of-degrees",
        "below-the-chips-range",
        "humidity-over-100",
    ],
)
def test_a_serial_frame_with_an_impossible_value_is_refused(
    rig: Rig, values: dict[str, float], sensor: str
) -> None:
    """A valid-CRC frame whose value its chip cannot report: acknowledged (the board frees it) but not stored
    as a reading; counted as out-of-range for the port, a fault of its sensor, one system alert; the ledgers
    stay finite and `db check` passes."""
    rig.run(30.0)
    seq = rig.device.ring.next_seq
    rig.inject(_forged(rig, **values))
    rig.run(30.0)
    conn = rig.db()
    try:
        lux = [float(r[0]) for r in conn.execute("SELECT lux FROM light_readings")]
        temps = conn.execute("SELECT celsius, relative_humidity_percent FROM temperature_readings").fetchall()
        assert max(lux) < 1000.0
        assert temps
        assert all(0.0 < c < 10.0 and rh is None for c, rh in temps)
        rejects = {(r.port, r.kind): r.count for r in serial_links.list_rejects(conn)}
        assert rejects[(rig.source.config.url, OUT_OF_RANGE)] == 1
        assert ("00000001", seq) in rig.frames_stored()  # acknowledged, not sent again for ever
        faults = conn.execute(
            "SELECT s.key, f.kind FROM sensor_faults f JOIN sensors s ON s.id = f.sensor_id"
        ).fetchall()
        assert (sensor, OUT_OF_RANGE) in [(str(k), str(kind)) for k, kind in faults]
        assert [f for f, _ in _alerts(conn)] == [f"{RULE}:system:{sensor}"]
        cums = conn.execute(
            "SELECT cum_lux_hours FROM light_readings UNION ALL SELECT cum_equivalent_hours"
            " FROM temperature_readings"
        ).fetchall()
        assert all(math.isfinite(float(c)) for (c,) in cums)
        assert check_database(conn).problems == []
    finally:
        conn.close()


def test_impossible_frames_alert_once_and_the_alert_resolves_on_good_readings(rig: Rig) -> None:
    """Three impossible frames in a row: one alert, not three; possible readings again resolve it."""
    rig.run(10.0)
    for _ in range(3):
        rig.inject(_forged(rig, lux=1e30))
        rig.run(1.0)  # the board sends its own next frame: the next forged one takes a new number
    conn = rig.db()
    try:
        assert _alerts(conn) == [(f"{RULE}:system:fridge-1-lux", "firing")]
    finally:
        conn.close()
    rig.run(10.0)
    conn = rig.db()
    try:
        assert _alerts(conn) == [(f"{RULE}:system:fridge-1-lux", "resolved")]
        rejects = {(r.port, r.kind): r.count for r in serial_links.list_rejects(conn)}
        assert rejects[(rig.source.config.url, OUT_OF_RANGE)] == 3
    finally:
        conn.close()


def test_the_simulated_source_is_held_to_the_chips_range(
    settings: Settings, catalog: Catalog, clock: ManualClock
) -> None:
    """A simulated fridge lit beyond anything a chip reads (a scenario of 10^12 lx) and a direct chip driver
    reading it: the simulated twin's readings are refused at the acquisition loop's entry, as out-of-range
    faults, never stored."""
    raw = settings.model_dump()
    raw["sensors"].append({**raw["sensors"][0], "key": "fridge-1-lux-twin", "driver": "simulated"})
    twin = Settings.model_validate(raw)
    conn, engine = open_engine(twin, catalog, clock)
    loop = simulated_loop(twin, clock, engine, 2.0)
    for s in loop.sensors:
        if isinstance(s.sensor, SimulatedLightSensor):  # the fridge it and the emulated chips read
            s.sensor._fridge.add_scenario(Scenario("light-stuck-on", clock.wall() + 5.0, 60.0, 1e12))
    for _ in range(30):
        loop.poll_once()
        if loop.due_for_flush():
            loop.flush()
        clock.advance(1.0)
    loop.flush()
    try:
        highest = conn.execute("SELECT MAX(lux) FROM light_readings").fetchone()[0]
        assert highest < 200_000.0
        faults = conn.execute(
            "SELECT DISTINCT s.key FROM sensor_faults f JOIN sensors s ON s.id = f.sensor_id"
            " WHERE f.kind = ?",
            (OUT_OF_RANGE,),
        ).fetchall()
        assert ("fridge-1-lux-twin",) in faults
        assert f"{RULE}:system:fridge-1-lux-twin" in [f for f, _ in _alerts(conn)]
    finally:
        conn.close()


def test_a_replayed_spool_is_screened_too(settings: Settings, catalog: Catalog, clock: ManualClock) -> None:
    """Late data: a spool line (left by a crash, or damaged) holding an impossible value is refused when
    replayed at start, and the possible readings beside it are stored."""
    conn, engine = open_engine(settings, catalog, clock)
    path = Spool.beside(settings.db_path)
    spool = Spool(path)
    t = clock.wall()
    spool.append(
        Batch(
            light=[LightReading("fridge-1-lux", t, 12.0), LightReading("fridge-1-lux", t + 1, math.inf)],
            temperature=[
                TemperatureReading("fridge-1-temp", t, 4.0),
                TemperatureReading("fridge-1-temp", t + 10, -400.0),
            ],
        )
    )
    spool.close()
    assert "Infinity" in path.read_text()
    replay_spool(engine, path, t + 20)
    try:
        assert conn.execute("SELECT lux FROM light_readings").fetchall() == [(12.0,)]
        assert conn.execute("SELECT celsius FROM temperature_readings").fetchall() == [(4.0,)]
        fps = {f for f, _ in _alerts(conn)}
        assert fps == {f"{RULE}:system:fridge-1-lux", f"{RULE}:system:fridge-1-temp"}
        assert check_database(conn).problems == []
    finally:
        conn.close()
    assert not path.exists()
