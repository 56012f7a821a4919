"""The acquisition loop: scheduling, fault handling with backoff, edges logged once."""

from __future__ import annotations

import logging

import pytest

from firmware_bridge.acquisition import AcquisitionLoop, AcquisitionSettings, ScheduledSensor
from firmware_bridge.firmware.probes import FAULT_KINDS
from hardware.clock import ManualClock
from hardware.errors import BusError, HardwareError, SensorFrozen, SensorOutOfRange, SensorUnavailable
from hardware.sensor import LightSample
from monitor.batch import RecordingSink
from monitor.plausibility import OUT_OF_RANGE

# The loop hands its batches to a recording sink; the engine is tested in tests/monitor/test_engine.py.


class FlakySensor:
    model = "flaky"

    def __init__(self, fail_between: tuple[float, float], clock: ManualClock) -> None:
        self.fail_between = fail_between
        self.clock = clock
        self.calls = 0

    def read_light(self) -> LightSample:
        self.calls += 1
        t = self.clock.monotonic()
        if self.fail_between[0] <= t < self.fail_between[1]:
            raise SensorUnavailable("[Errno 121] Remote I/O error")
        return LightSample(lux=12.0)


def run(loop: AcquisitionLoop, clock: ManualClock, seconds: int) -> None:
    for _ in range(seconds):
        loop.poll_once()
        clock.advance(1.0)
    loop.flush()


def test_samples_each_sensor_at_its_interval() -> None:
    """A 1 s sensor gives 60 samples a minute, stamped on the wall clock."""
    clock = ManualClock()
    sink = RecordingSink()
    sensor = FlakySensor((1e9, 1e9), clock)
    loop = AcquisitionLoop(
        [ScheduledSensor("s", sensor, 1.0)],
        clock,
        sink,
        real_monotonic=clock.monotonic,
    )
    run(loop, clock, 60)
    light = [r for b in sink.batches for r in b.light]
    assert len(light) == 60
    assert light[1].ts - light[0].ts == pytest.approx(1.0)


def test_failing_sensor_backs_off_logs_edges_once_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    """A sensor down for 100 s is retried with backoff, logged once down and once up, then read again."""
    clock = ManualClock()
    sink = RecordingSink()
    sensor = FlakySensor((10.0, 110.0), clock)
    loop = AcquisitionLoop(
        [ScheduledSensor("s", sensor, 1.0)],
        clock,
        sink,
        real_monotonic=clock.monotonic,
    )
    with caplog.at_level(logging.INFO, logger="firmware_bridge.acquisition"):
        run(loop, clock, 300)
    faults = [f for b in sink.batches for f in b.faults]
    assert 3 <= len(faults) <= 10  # backoff: far fewer attempts than the 100 polls of the outage
    assert faults[0].kind == "unavailable"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("went down" in m for m in messages) == 1
    assert sum("recovered" in m for m in messages) == 1
    assert sink.batches[-1].light  # reading again after recovery


def test_fault_kind_comes_from_the_exception_class() -> None:
    """An out-of-range reading is recorded as kind 'out-of-range', the kind its class declares."""
    clock = ManualClock()
    sink = RecordingSink()

    class Wild:
        model = "wild"

        def read_light(self) -> LightSample:
            raise SensorOutOfRange("TSL2591 reported -5 lx")

    loop = AcquisitionLoop(
        [ScheduledSensor("w", Wild(), 1.0)],
        clock,
        sink,
        real_monotonic=clock.monotonic,
    )
    run(loop, clock, 1)
    assert sink.batches[0].faults[0].kind == "out-of-range"


def test_first_poll_is_flushed_at_once_then_every_batch_window() -> None:
    """The first readings are stored right after start; later ones wait for the 2 s batch window."""
    clock = ManualClock()
    sink = RecordingSink()
    loop = AcquisitionLoop(
        [ScheduledSensor("s", FlakySensor((1e9, 1e9), clock), 1.0)],
        clock,
        sink,
        real_monotonic=clock.monotonic,
    )
    loop.poll_once()
    assert loop.due_for_flush()
    loop.flush()
    assert [len(b.light) for b in sink.batches] == [1]
    clock.advance(1.0)
    loop.poll_once()
    assert not loop.due_for_flush()
    clock.advance(1.0)
    assert loop.due_for_flush()


def test_a_drivers_own_error_keeps_its_parents_declared_kind() -> None:
    """A subclass a driver defines (a NACK on probe is a SensorUnavailable) is recorded as 'unavailable':
    the kind is declared on the class tree, never spelled out of a class name ('nack-on-probe')."""
    clock = ManualClock()
    sink = RecordingSink()

    class NackOnProbe(SensorUnavailable):
        pass

    class Silent:
        model = "silent"

        def read_light(self) -> LightSample:
            raise NackOnProbe("no ACK at 0x29")

    loop = AcquisitionLoop(
        [ScheduledSensor("s", Silent(), 1.0)],
        clock,
        sink,
        real_monotonic=clock.monotonic,
    )
    run(loop, clock, 1)
    assert sink.batches[0].faults[0].kind == "unavailable"


def test_the_declared_kinds_are_the_ones_the_firmware_and_the_store_name() -> None:
    """The hardware's out-of-range is the plausibility table's and the firmware's; every kind is distinct."""
    kinds = [c.kind for c in (SensorUnavailable, SensorOutOfRange, SensorFrozen, BusError, HardwareError)]
    assert len(set(kinds)) == len(kinds)
    assert SensorOutOfRange.kind == OUT_OF_RANGE
    assert set(FAULT_KINDS) <= set(kinds)


def test_a_backward_clock_step_breaks_every_series_the_sink_takes() -> None:
    """A wall clock stepped back 30 s gives each sensor of the sink a gap over the 30 s given twice."""
    clock = ManualClock()
    sink = RecordingSink(sensor_keys=["s", "serial-t"])
    loop = AcquisitionLoop(
        [ScheduledSensor("s", FlakySensor((1e9, 1e9), clock), 1.0)],
        clock,
        sink,
        AcquisitionSettings(batch_seconds=2.0),
        real_monotonic=clock.monotonic,
    )
    run(loop, clock, 5)
    stepped_at = clock.wall()
    clock.step_wall(-30.0)
    run(loop, clock, 1)
    gaps = [g for b in sink.batches for g in b.gaps]
    assert sorted(g.sensor_key for g in gaps) == ["s", "serial-t"]
    assert all((g.start_ts, g.end_ts) == (stepped_at - 30.0, stepped_at) for g in gaps)


def test_the_heartbeat_counts_what_the_sink_stored() -> None:
    """Each flush's heartbeat carries the sink's readings so far plus the batch it comes with."""
    clock = ManualClock()
    sink = RecordingSink()
    loop = AcquisitionLoop(
        [ScheduledSensor("s", FlakySensor((1e9, 1e9), clock), 1.0)],
        clock,
        sink,
        AcquisitionSettings(batch_seconds=2.0),
        real_monotonic=clock.monotonic,
    )
    run(loop, clock, 3)
    run(loop, clock, 2)
    totals = [h.readings_total for h in sink.heartbeats if h is not None]
    assert totals == [3, 5]
    assert sink.readings_total == 5
