"""`vialguard firmware-sim`: the firmware under CPython in its own process, heard over a real pty."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from firmware_bridge import frames
from vialguard.cli import main


class Output:
    """The child's output, read as it comes: the waits are for another process, not for a clock."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.text = ""

    def wait_for(self, needle: str, count: int = 1, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while self.text.count(needle) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"no {needle!r} in {self.text!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                assert chunk, f"firmware-sim exited: {self.text}"
                self.text += chunk.decode()


def read_messages(url: str, want: int, seconds: float = 10.0) -> list[frames.Message]:
    """Open the host's end by URL as the bridge does, query, and decode a hello and ``want - 1`` frames.

    pyserial's open flushes the input after raising DTR, so the hello a device sends on connect can be
    discarded while frames written after it survive. The bridge therefore sends a query on open, and so
    does this reader: what came before the first whole hello is dropped, and every frame after it must
    be good. Each hello starts a replay from the oldest unacknowledged frame, so a second one starts the
    list again.
    """
    port = serial.serial_for_url(url, timeout=0.2)
    splitter = frames.LineSplitter()
    out: list[frames.Message] = []
    deadline = time.monotonic() + seconds
    try:
        port.write(frames.Query().encode())
        while len(out) < want and time.monotonic() < deadline:
            for item in splitter.feed(port.read(port.in_waiting or 1)):
                if not out:
                    if isinstance(item, bytes) and isinstance(hello := _decoded(item), frames.Hello):
                        out.append(hello)
                    continue
                assert isinstance(item, bytes), item
                message = frames.decode(item)
                # The hello answering the query restarts the replay, if the one sent on open survived.
                out = [message] if isinstance(message, frames.Hello) else [*out, message]
    finally:
        port.close()
    return out


def _decoded(line: bytes) -> frames.Message | None:
    try:
        return frames.decode(line)
    except frames.FrameError:
        return None  # a line cut by the flush on open


def drain_until_gone(port: serial.SerialBase, seconds: float = 10.0) -> None:
    """Read until the far end vanishes (the read raises), or give up after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        port.read(port.in_waiting or 1)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Output]]:
    link = tmp_path / "ttyACM0"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vialguard",
            "firmware-sim",
            "--pty",
            str(link),
            "--boot-id",
            "0a1b2c3d",
            "--unplug-seconds",
            "0.5",
            "--duration",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out = Output(proc)
    try:
        out.wait_for("firmware-sim: serial port")
        yield proc, link, out
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


@pytest.mark.slow
def test_streams_a_hello_and_readings_on_its_pty_and_stops_on_sigterm(
    sim: tuple[subprocess.Popen[bytes], Path, Output],
) -> None:
    """A host opening the pty by URL hears a hello with the inventory, then readings; SIGTERM ends it."""
    proc, link, _ = sim
    got = read_messages(str(link), 8)
    hello = got[0]
    assert isinstance(hello, frames.Hello)
    assert (hello.device_id, hello.boot_id, hello.wrap_bits) == ("f1e2d3c4b5a69788", "0a1b2c3d", 29)
    assert [(s.key, s.quantity) for s in hello.sensors] == [
        ("fridge-1-lux", "light"),
        ("fridge-1-temp", "temperature"),
    ]
    assert hello.uptime_ms < 60_000  # the counter starts at the board's boot
    assert all(isinstance(m, frames.Reading) for m in got[1:])
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()
    assert "firmware-sim: stopped after" in out.decode()
    assert not link.exists()


@pytest.mark.slow
def test_sigusr1_unplugs_and_the_device_comes_back_with_its_backlog(
    sim: tuple[subprocess.Popen[bytes], Path, Output],
) -> None:
    """SIGUSR1 pulls the cable: the host's end fails, the name comes back, the device says hello again."""
    proc, link, out = sim
    port = serial.serial_for_url(str(link), timeout=0.2)
    try:
        port.read(1)
        proc.send_signal(signal.SIGUSR1)
        with pytest.raises(serial.SerialException):
            drain_until_gone(port)
    finally:
        port.close()
    out.wait_for("firmware-sim: unplugged")
    out.wait_for("firmware-sim: serial port", count=2)
    got = read_messages(str(link), 2)
    assert isinstance(got[0], frames.Hello)
    assert isinstance(got[1], frames.Reading)
    assert got[1].seq == 1  # nothing acked: the backlog is sent again from the oldest


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sensors", "x:tsl2591"], "--pty LINK"),
        (["--pty", "/tmp/x", "--port", "loop://"], "exactly one of --port URL or --pty LINK"),
        (["--pty", "/tmp/x", "--sensors", "lux:nosuchchip"], "--sensors: sensor 'lux': unknown driver"),
        (["--pty", "/tmp/x", "--boot-id", "xyz"], "--boot-id 'xyz': 8 lowercase hex digits"),
        (["--pty", "/tmp/x", "--device-id", "Pico 1"], "--device-id 'Pico 1'"),
        (["--pty", "/tmp/x", "--device-id", "a" * 33], "at most 32"),
        (["--pty", "/tmp/x", "--capacity", "0"], "--capacity 0"),
        (["--pty", "/tmp/x", "--wrap-bits", "64"], "--wrap-bits 64"),
        (["--port", "/nonexistent/ttyACM9"], "--port /nonexistent/ttyACM9: cannot open"),
    ],
    ids=["no-port", "both-ports", "unknown-driver", "bad-boot-id", "bad-device-id", "long-device-id",
         "zero-capacity",
         "wrap-bits", "missing-device"],
)  # fmt: skip
def test_bad_option_exits_2_naming_it(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad option stops firmware-sim before it starts, naming the option and the reason."""
    assert main(["firmware-sim", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_port_url_mode_streams_to_the_other_end(tmp_path: Path) -> None:
    """--port opens an existing port by URL (here a pty the test holds): the test, as host, hears it."""
    master, slave = os.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vialguard", "firmware-sim", "--port", os.ttyname(slave), "--duration", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    splitter = frames.LineSplitter()
    got: list[frames.Message] = []
    try:
        deadline = time.monotonic() + 20
        while len(got) < 2 and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                for item in splitter.feed(os.read(master, 4096)):
                    assert isinstance(item, bytes), item
                    got.append(frames.decode(item))
    finally:
        proc.send_signal(signal.SIGTERM)
        text = proc.communicate(timeout=20)[0].decode()
        os.close(master)
        os.close(slave)
    assert len(got) >= 2, text
    assert isinstance(got[0], frames.Hello), text
    assert isinstance(got[1], frames.Reading)
    assert proc.returncode == 0, text
