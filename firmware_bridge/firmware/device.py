"""The firmware's main loop: sample sensors on schedule, buffer, send frames, honour acks and queries.

It is written against three injected things, so the same code runs on the RP2040 and under CPython:

- ``port``: anything with ``in_waiting``, ``read(n)`` and ``write(data)`` (``usb_cdc.data`` on the device,
  a pseudo-terminal or pyserial port under CPython); an optional ``connected`` tells when a host listens;
- ``probes``: sensors (:mod:`firmware_bridge.firmware.probes`) on ``board.I2C()`` or the emulated bus;
- ``ticks_ms``: the wrapping millisecond counter (``supervisor.ticks_ms``, 29 bits on CircuitPython).

Protocol: ``docs/serial-protocol.md``. CircuitPython constraints: no dataclasses, typing only for checkers.
"""

from firmware_bridge import frames
from firmware_bridge.firmware.probes import DEFAULT_ADDRESSES, FAULT_KINDS, PROBES, Probe, ProbeError
from firmware_bridge.firmware.ring import DEFAULT_CAPACITY, Ring

FIRMWARE_VERSION = "0.1.0"
RESEND_MS = 5000  # no ack progress for this long while frames are outstanding: send again from the oldest
FRAMES_PER_STEP = 64  # frames sent per loop turn at most, so sampling keeps its schedule during a replay
DEFAULT_SENSORS = "fridge-1-lux:tsl2591:0x29:1000;fridge-1-temp:mcp9808:0x18:10000"


def parse_sensors(text: str) -> "list[tuple[str, str, int, int]]":
    """``key:driver[:address[:interval_ms]]`` entries separated by ``;`` as ``(key, driver, addr, ms)``."""
    out = []
    for entry in text.split(";"):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) < 2 or len(parts) > 4:
            raise ValueError(f"sensor {entry!r}: expected key:driver[:address[:interval_ms]]")
        key, driver = parts[0], parts[1]
        if driver not in PROBES:
            raise ValueError(f"sensor {key!r}: unknown driver {driver!r}; known: {', '.join(sorted(PROBES))}")
        frames.SensorInfo.decode(f"0:{key}:{driver}:light:1")  # the key's characters are checked here
        address = int(parts[2], 0) if len(parts) > 2 and parts[2] else DEFAULT_ADDRESSES[driver]
        probe_class = PROBES[driver]
        default_ms = 1000 if probe_class.quantity == "light" else 10000
        interval_ms = int(parts[3]) if len(parts) > 3 else default_ms
        if interval_ms < 1:
            raise ValueError(f"sensor {key!r}: interval_ms must be at least 1")
        out.append((key, driver, address, interval_ms))
    if not out:
        raise ValueError("no sensors configured")
    _check_hello_fits(out)
    return out


def _check_hello_fits(sensors: "list[tuple[str, str, int, int]]") -> None:
    """The hello lists every sensor on one line: refuse, at start, an inventory a host would reject as
    overlong (every counter at its widest, a 16-byte board id)."""
    widest = 0xFFFFFFFF
    inventory = [
        frames.SensorInfo(i, key, driver, PROBES[driver].quantity, ms)
        for i, (key, driver, _, ms) in enumerate(sensors)
    ]
    hello = frames.Hello(
        "f" * 32, "ffffffff", widest, widest, widest, FIRMWARE_VERSION, 32, widest, inventory
    )
    length = len(hello.encode()) - 1
    if length > frames.MAX_LINE:
        raise ValueError(
            f"{len(sensors)} sensors make a hello of {length} bytes, over the line limit of"
            f" {frames.MAX_LINE}: use shorter keys or fewer sensors"
        )


def build_probes(
    i2c: object, sensors: "list[tuple[str, str, int, int]]", settle: object = None
) -> "list[Slot]":
    return [Slot(key, PROBES[driver](i2c, address, settle), ms) for key, driver, address, ms in sensors]


class Slot:
    """A probe with its key and schedule."""

    def __init__(self, key: str, probe: Probe, interval_ms: int) -> None:
        self.key = key
        self.probe = probe
        self.interval_ms = interval_ms
        self.next_due = 0  # unwrapped ms
        self.failing = False


class Device:
    def __init__(
        self,
        port: object,
        slots: "list[Slot]",
        ticks_ms: object,
        device_id: str,
        boot_id: str,
        capacity: int = DEFAULT_CAPACITY,
        wrap_bits: int = 29,
        resend_ms: int = RESEND_MS,
        firmware_version: str = FIRMWARE_VERSION,
    ) -> None:
        self.port = port
        self.slots = slots
        self._ticks = ticks_ms
        self.device_id = device_id
        self.boot_id = boot_id
        self.ring = Ring(capacity)
        self.wrap_bits = wrap_bits
        self._wrap = 1 << wrap_bits
        self.resend_ms = resend_ms
        self.firmware_version = firmware_version
        self._splitter = frames.LineSplitter()
        self._last_raw = self._raw()
        self.wraps = 0
        self.send_cursor = 1
        self.acked = 0
        self._progress_ms = self.now_ms()
        self._hello_due = True
        self._was_connected = False
        self.rejected = 0
        self.sent = 0
        for slot in slots:
            slot.next_due = self.now_ms()

    # -- time ----------------------------------------------------------------------------------------

    def _raw(self) -> int:
        return int(self._ticks()) % (1 << self.wrap_bits)  # type: ignore[operator]

    def now_ms(self) -> int:
        """Milliseconds since boot, unwrapped (the loop turns far more often than once per wrap)."""
        raw = self._raw()
        if raw < self._last_raw:
            self.wraps += 1
        self._last_raw = raw
        return self.wraps * self._wrap + raw

    # -- the loop ------------------------------------------------------------------------------------

    def step(self) -> None:
        """One turn: sample what is due, read the host's frames, send what is pending."""
        now = self.now_ms()
        self._sample(now)
        self._receive()
        connected = bool(getattr(self.port, "connected", True))
        if connected and not self._was_connected:
            self._rewind()
        self._was_connected = connected
        if connected:
            self._send(now)

    def _sample(self, now: int) -> None:
        for index, slot in enumerate(self.slots):
            if now < slot.next_due:
                continue
            captured = now % self._wrap
            try:
                aux, value, a, b = slot.probe.read()
            except ProbeError as exc:
                self.ring.append(frames.FAULT, index, captured, exc.code, 0.0, 0, 0)
                slot.failing = True
            else:
                kind = frames.LIGHT if slot.probe.quantity == "light" else frames.TEMPERATURE
                self.ring.append(kind, index, captured, aux, value, a, b)
                slot.failing = False
            slot.next_due += slot.interval_ms
            if slot.next_due <= now:  # fell behind (a long replay, a slow bus): skip, never burst
                slot.next_due = now + slot.interval_ms

    def _receive(self) -> None:
        try:
            waiting = self.port.in_waiting  # type: ignore[attr-defined]
            data = self.port.read(waiting) if waiting else b""  # type: ignore[attr-defined]
        except OSError:
            return  # unplugged: keep sampling, the host queries when it is back
        if not data:
            return
        for item in self._splitter.feed(bytes(data)):
            if isinstance(item, frames.FrameError):
                self.rejected += 1
                continue
            try:
                message = frames.decode(item)
            except frames.FrameError:
                self.rejected += 1
                continue
            if isinstance(message, frames.Ack):
                if message.device_id == self.device_id and message.boot_id == self.boot_id:
                    self._ack(message.seq)
            elif isinstance(message, frames.Query):
                self._rewind()

    def _ack(self, seq: int) -> None:
        seq = min(seq, self.ring.next_seq - 1)
        if seq > self.acked:
            self.acked = seq
            self.ring.release_through(seq)
            self._progress_ms = self.now_ms()
        if self.send_cursor < self.ring.oldest:
            self.send_cursor = self.ring.oldest

    def _rewind(self) -> None:
        self._hello_due = True
        self.send_cursor = self.ring.oldest
        self._progress_ms = self.now_ms()

    def _send(self, now: int) -> None:
        if self._hello_due:
            if not self._write(self.hello(now).encode()):
                return
            self._hello_due = False
        if self.send_cursor < self.ring.oldest:
            self.send_cursor = self.ring.oldest
        outstanding = self.ring.oldest < self.send_cursor
        if outstanding and now - self._progress_ms >= self.resend_ms:
            self.send_cursor = self.ring.oldest
            self._progress_ms = now
        for _ in range(FRAMES_PER_STEP):
            if self.send_cursor >= self.ring.next_seq:
                break
            frame = self.frame(self.send_cursor, now)
            if frame is None or not self._write(frame.encode()):
                break
            self.send_cursor += 1

    def _write(self, data: bytes) -> bool:
        try:
            written = self.port.write(data)  # type: ignore[attr-defined]
        except OSError:
            return False
        if written is not None and written < len(data):
            return False  # a partial line is noise to the host; this frame goes again later
        self.sent += 1
        return True

    # -- frames --------------------------------------------------------------------------------------

    def _header(self, now: int) -> "tuple[str, str, int, int]":
        return self.device_id, self.boot_id, now % self._wrap, self.ring.oldest

    def hello(self, now: int) -> frames.Hello:
        return frames.Hello(
            self.device_id,
            self.boot_id,
            self.ring.next_seq - 1,
            now % self._wrap,
            self.ring.oldest,
            self.firmware_version,
            self.wrap_bits,
            now // self._wrap,
            [
                frames.SensorInfo(i, s.key, s.probe.driver, s.probe.quantity, s.interval_ms)
                for i, s in enumerate(self.slots)
            ],
        )

    def frame(self, seq: int, now: int) -> "frames.Reading | None":
        record = self.ring.get(seq)
        if record is None:
            return None
        _, captured, kind, sensor, aux, value, a, b = record
        device_id, boot_id, uptime, oldest = self._header(now)
        if kind == frames.LIGHT:
            gain, integration_ms = self.slots[sensor].probe.settings(aux & 0x7F)
            return frames.LightData(
                device_id, boot_id, seq, uptime, oldest, sensor, captured,
                value, bool(aux & 0x80), gain, integration_ms, (a, b),
            )  # fmt: skip
        if kind == frames.TEMPERATURE:
            rh = None if a == 0xFFFF else a / 100.0
            return frames.TemperatureData(
                device_id, boot_id, seq, uptime, oldest, sensor, captured, value, rh
            )
        fault = FAULT_KINDS[aux] if aux < len(FAULT_KINDS) else "unavailable"
        return frames.FaultData(
            device_id,
            boot_id,
            seq,
            uptime,
            oldest,
            sensor,
            captured,
            fault,
            f"{self.slots[sensor].key}: {fault}",
        )
