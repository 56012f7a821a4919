"""The serial frame codec, shared by the host bridge and the microcontroller firmware.

One frame is one ASCII line: ``$<body>*<CRC>\\n``, the body comma-separated fields starting with the
protocol version and the frame type, the CRC four upper-case hex digits of CRC-16/CCITT-FALSE over the body
(``docs/serial-protocol.md`` has every field). This module is pure: bytes in, messages out, and the reverse.

It runs on CircuitPython as well as CPython, so it uses no dataclasses, no ``from __future__`` and no
``typing`` at run time: annotations are ignored by CircuitPython and evaluated only by CPython.

Every way a line can be bad raises a :class:`FrameError` subclass, and nothing else::

    FrameError (ValueError)       kind
    ├── NoiseError                "noise"      no "$" starts the line
    ├── TruncatedError            "truncated"  no "*CRC" at the end
    ├── ChecksumError             "checksum"   the CRC does not match the body
    ├── OverlongError             "overlong"   more than MAX_LINE bytes before a newline
    ├── VersionError              "version"    a protocol version this side does not speak
    └── MalformedError            "malformed"  a field is missing, extra or of the wrong form
"""

try:  # type names for the checker only; CircuitPython has neither module
    from collections.abc import Callable
    from typing import TypeAlias
except ImportError:
    pass

VERSION = 1
MAX_LINE = 480  # bytes before the newline (a hello of about ten sensors); a longer run is dropped
DETAIL_CHARS = 60  # fault details are cut to this many characters


class FrameError(ValueError):
    kind = "malformed"


class NoiseError(FrameError):
    kind = "noise"


class TruncatedError(FrameError):
    kind = "truncated"


class ChecksumError(FrameError):
    kind = "checksum"


class OverlongError(FrameError):
    kind = "overlong"


class VersionError(FrameError):
    kind = "version"


class MalformedError(FrameError):
    kind = "malformed"


# -- CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) -------------------------


def _table() -> list[int]:
    out = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        out.append(crc & 0xFFFF)
    return out


_CRC_TABLE = _table()


def crc16_pure(data: bytes) -> int:
    """CRC-16/CCITT-FALSE in plain Python: what the firmware runs (CircuitPython has no ``crc_hqx``)."""
    crc = 0xFFFF
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc


try:
    from binascii import crc_hqx as _crc_hqx

    def crc16(data: bytes) -> int:
        """CRC-16/CCITT-FALSE; on CPython ``binascii.crc_hqx`` computes the same in C."""
        return _crc_hqx(data, 0xFFFF)

except ImportError:  # CircuitPython

    def crc16(data: bytes) -> int:
        """CRC-16/CCITT-FALSE."""
        return crc16_pure(data)


# -- lines ---------------------------------------------------------------------------------------------


def encode_fields(fields: list[str]) -> bytes:
    """One frame line from its body fields (the first two are version and type)."""
    body = ",".join(fields).encode()
    return b"$" + body + b"*" + f"{crc16(body):04X}".encode() + b"\n"


def decode_fields(line: bytes) -> list[str]:
    """The body fields of one line (without its newline), after checking start, CRC and version."""
    if len(line) > MAX_LINE:
        raise OverlongError(f"line of {len(line)} bytes is longer than {MAX_LINE}")
    if not line.startswith(b"$"):
        raise NoiseError("line does not start with '$'")
    star = line.rfind(b"*")
    if star < 0 or len(line) - star != 5:
        raise TruncatedError("no '*' and four-digit CRC at the end of the line")
    body = line[1:star]
    try:
        expected = int(line[star + 1 :].decode(), 16)
    except (ValueError, UnicodeError) as exc:
        raise TruncatedError(f"CRC field {line[star + 1 :]!r} is not hexadecimal") from exc
    actual = crc16(body)
    if actual != expected:
        raise ChecksumError(f"CRC {expected:04X} does not match the body's {actual:04X}")
    try:
        text = body.decode("ascii")
    except UnicodeError as exc:
        raise MalformedError("body is not ASCII") from exc
    fields = text.split(",")
    if fields[0] != str(VERSION):
        raise VersionError(f"protocol version {fields[0][:8]!r}; this side speaks {VERSION}")
    if len(fields) < 2:
        raise MalformedError("no frame type")
    return fields


class LineSplitter:
    """Cuts a byte stream into candidate frame lines, recovering at every ``$``.

    ``feed`` returns complete lines (bytes, newline removed) and :class:`OverlongError` for each run of
    more than :data:`MAX_LINE` bytes without a newline. Bytes before the last ``$`` of a line are noise and
    reported as :class:`NoiseError`, so garbage glued to the front of a good frame never costs the frame.
    """

    def __init__(self) -> None:
        self._buf = b""
        self._overlong = False

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        out: list[bytes | FrameError] = []
        buf = self._buf + data
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            line = buf[start:nl]
            start = nl + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if self._overlong:
                self._overlong = False
                dollar = line.rfind(b"$")
                if dollar < 0:
                    continue  # the tail of the overlong run, already reported
                line = line[dollar:]
            self._split_noise(line, out)
        rest = buf[start:]
        if len(rest) > MAX_LINE:
            if not self._overlong:
                out.append(OverlongError(f"more than {MAX_LINE} bytes without a newline"))
            self._overlong = True
            dollar = rest.rfind(b"$")
            rest = rest[dollar:] if dollar >= 0 and len(rest) - dollar <= MAX_LINE else b""
        self._buf = rest
        return out

    @staticmethod
    def _split_noise(line: bytes, out: list[bytes | FrameError]) -> None:
        if not line:
            return
        dollar = line.rfind(b"$")
        if dollar > 0:
            out.append(NoiseError(f"{dollar} bytes of noise before a frame start"))
            line = line[dollar:]
        elif dollar < 0:
            out.append(NoiseError(f"{len(line)} bytes of noise"))
            return
        out.append(line)


# -- messages ------------------------------------------------------------------------------------------

LIGHT = "L"
TEMPERATURE = "T"
FAULT = "F"
HELLO = "H"
ACK = "A"
QUERY = "Q"


def _int(text: str, name: str, low: int = 0, high: int = 0xFFFFFFFF) -> int:
    if not text or len(text) > 10 or not text.isdigit():  # the body is ASCII: isdigit means 0-9
        raise MalformedError(f"{name} {text[:16]!r} is not an unsigned integer")
    value = int(text)
    if value < low or value > high:
        raise MalformedError(f"{name} {value} is outside {low}..{high}")
    return value


def _float(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise MalformedError(f"{name} {text[:16]!r} is not a number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise MalformedError(f"{name} is not finite")
    return value


_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-"


def _name(text: str, what: str) -> str:
    if not 0 < len(text) <= 64 or text.strip(_NAME_CHARS):  # strip stops at the first other character
        raise MalformedError(f"{what} {text[:16]!r} is not lowercase letters, digits, '.', '_' or '-'")
    return text


def clean_detail(text: str) -> str:
    """A fault detail that fits in a field: no separators, printable ASCII, at most DETAIL_CHARS."""
    out = []
    for c in text[:DETAIL_CHARS]:
        out.append(c if " " <= c <= "~" and c not in ",*$" else " ")
    return "".join(out)


class DeviceFrame:
    """What every device-to-host frame carries.

    ``seq`` numbers data frames of one boot from 1; ``uptime_ms`` is the device's wrapping millisecond
    counter when the frame was sent; ``oldest`` the oldest sequence number the device still holds (every
    unacknowledged number below it is lost).
    """

    kind = ""

    def __init__(self, device_id: str, boot_id: str, seq: int, uptime_ms: int, oldest: int) -> None:
        self.device_id = device_id
        self.boot_id = boot_id
        self.seq = seq
        self.uptime_ms = uptime_ms
        self.oldest = oldest

    def header(self) -> list[str]:
        return [
            str(VERSION),
            self.kind,
            self.device_id,
            self.boot_id,
            str(self.seq),
            str(self.uptime_ms),
            str(self.oldest),
        ]

    def payload(self) -> list[str]:
        return []

    def encode(self) -> bytes:
        return encode_fields(self.header() + self.payload())


class SensorInfo:
    """One row of the hello's inventory: index used in frames, site key, chip, quantity, interval."""

    def __init__(self, index: int, key: str, driver: str, quantity: str, interval_ms: int) -> None:
        self.index = index
        self.key = key
        self.driver = driver
        self.quantity = quantity
        self.interval_ms = interval_ms

    def encode(self) -> str:
        return f"{self.index}:{self.key}:{self.driver}:{self.quantity}:{self.interval_ms}"

    @staticmethod
    def decode(text: str) -> "SensorInfo":
        parts = text.split(":")
        if len(parts) != 5:
            raise MalformedError(f"sensor entry {text[:32]!r} is not index:key:driver:quantity:interval_ms")
        if parts[3] not in ("light", "temperature"):
            raise MalformedError(f"sensor quantity {parts[3][:16]!r} is not light or temperature")
        return SensorInfo(
            _int(parts[0], "sensor index", 0, 255),
            _name(parts[1], "sensor key"),
            _name(parts[2], "driver"),
            parts[3],
            _int(parts[4], "interval_ms", 1),
        )


class Hello(DeviceFrame):
    """Sent at boot and on every query: firmware version, counter width, wraps so far, sensor inventory."""

    kind = HELLO

    def __init__(
        self,
        device_id: str,
        boot_id: str,
        seq: int,
        uptime_ms: int,
        oldest: int,
        firmware_version: str,
        wrap_bits: int,
        wraps: int,
        sensors: list[SensorInfo],
    ) -> None:
        DeviceFrame.__init__(self, device_id, boot_id, seq, uptime_ms, oldest)
        self.firmware_version = firmware_version
        self.wrap_bits = wrap_bits
        self.wraps = wraps
        self.sensors = sensors

    def payload(self) -> list[str]:
        return [self.firmware_version, str(self.wrap_bits), str(self.wraps)] + [
            s.encode() for s in self.sensors
        ]


class Reading(DeviceFrame):
    """A data frame: one sample (or failed read) of sensor ``sensor_index`` taken at ``captured_ms``."""

    def __init__(
        self,
        device_id: str,
        boot_id: str,
        seq: int,
        uptime_ms: int,
        oldest: int,
        sensor_index: int,
        captured_ms: int,
    ) -> None:
        DeviceFrame.__init__(self, device_id, boot_id, seq, uptime_ms, oldest)
        self.sensor_index = sensor_index
        self.captured_ms = captured_ms


class LightData(Reading):
    kind = LIGHT

    def __init__(
        self,
        device_id: str,
        boot_id: str,
        seq: int,
        uptime_ms: int,
        oldest: int,
        sensor_index: int,
        captured_ms: int,
        lux: float,
        saturated: bool,
        gain: float,
        integration_ms: float,
        raw_counts: tuple[int, ...],
    ) -> None:
        Reading.__init__(self, device_id, boot_id, seq, uptime_ms, oldest, sensor_index, captured_ms)
        self.lux = lux
        self.saturated = saturated
        self.gain = gain
        self.integration_ms = integration_ms
        self.raw_counts = raw_counts

    def payload(self) -> list[str]:
        return [
            str(self.sensor_index),
            str(self.captured_ms),
            f"{self.lux:.7g}",
            "1" if self.saturated else "0",
            f"{self.gain:g}",
            f"{self.integration_ms:g}",
            ":".join(str(c) for c in self.raw_counts),
        ]


class TemperatureData(Reading):
    kind = TEMPERATURE

    def __init__(
        self,
        device_id: str,
        boot_id: str,
        seq: int,
        uptime_ms: int,
        oldest: int,
        sensor_index: int,
        captured_ms: int,
        celsius: float,
        relative_humidity_percent: float | None,
    ) -> None:
        Reading.__init__(self, device_id, boot_id, seq, uptime_ms, oldest, sensor_index, captured_ms)
        self.celsius = celsius
        self.relative_humidity_percent = relative_humidity_percent

    def payload(self) -> list[str]:
        rh = self.relative_humidity_percent
        return [
            str(self.sensor_index),
            str(self.captured_ms),
            f"{self.celsius:.4f}",
            "" if rh is None else f"{rh:.2f}",
        ]


class FaultData(Reading):
    """A failed read: ``fault_kind`` as the host names faults (``unavailable``, ``out-of-range``...)."""

    kind = FAULT

    def __init__(
        self,
        device_id: str,
        boot_id: str,
        seq: int,
        uptime_ms: int,
        oldest: int,
        sensor_index: int,
        captured_ms: int,
        fault_kind: str,
        detail: str,
    ) -> None:
        Reading.__init__(self, device_id, boot_id, seq, uptime_ms, oldest, sensor_index, captured_ms)
        self.fault_kind = fault_kind
        self.detail = detail

    def payload(self) -> list[str]:
        return [str(self.sensor_index), str(self.captured_ms), self.fault_kind, clean_detail(self.detail)]


class Ack:
    """Host to device: every frame of ``boot_id`` up to and including ``seq`` is committed (or lost)."""

    kind = ACK

    def __init__(self, device_id: str, boot_id: str, seq: int) -> None:
        self.device_id = device_id
        self.boot_id = boot_id
        self.seq = seq

    def encode(self) -> bytes:
        return encode_fields([str(VERSION), ACK, self.device_id, self.boot_id, str(self.seq)])


class Query:
    """Host to device: send a hello, then every unacknowledged frame again from the oldest."""

    kind = QUERY

    def encode(self) -> bytes:
        return encode_fields([str(VERSION), QUERY])


Message: "TypeAlias" = "Hello | LightData | TemperatureData | FaultData | Ack | Query"


def _expect(fields: list[str], count: int, what: str) -> None:
    if len(fields) != count:
        raise MalformedError(f"{what} frame has {len(fields)} fields, expected {count}")


def _header(fields: list[str]) -> tuple[str, str, int, int, int]:
    return (
        _name(fields[2], "device id"),
        _name(fields[3], "boot id"),
        _int(fields[4], "seq"),
        _int(fields[5], "uptime_ms"),
        _int(fields[6], "oldest"),
    )


def _hello(fields: list[str]) -> Hello:
    if len(fields) < 10:
        raise MalformedError(f"hello frame has {len(fields)} fields, expected at least 10")
    device_id, boot_id, seq, uptime_ms, oldest = _header(fields)
    sensors = [SensorInfo.decode(f) for f in fields[10:]]
    indexes = [s.index for s in sensors]
    if len(set(indexes)) != len(indexes):
        raise MalformedError("hello lists a sensor index twice")
    version = fields[7]
    if not 0 < len(version) <= 32:
        raise MalformedError("firmware version is empty or too long")
    return Hello(
        device_id,
        boot_id,
        seq,
        uptime_ms,
        oldest,
        clean_detail(version),
        _int(fields[8], "wrap_bits", 8, 32),
        _int(fields[9], "wraps"),
        sensors,
    )


def _light(fields: list[str]) -> LightData:
    _expect(fields, 14, "light")
    device_id, boot_id, seq, uptime_ms, oldest = _header(fields)
    if fields[10] not in ("0", "1"):
        raise MalformedError(f"saturated flag {fields[10][:8]!r} is not 0 or 1")
    counts = tuple(_int(c, "raw count") for c in fields[13].split(":")) if fields[13] else ()
    lux = _float(fields[9], "lux")
    if lux < 0:
        raise MalformedError(f"lux {lux:g} is negative")
    return LightData(
        device_id,
        boot_id,
        seq,
        uptime_ms,
        oldest,
        _int(fields[7], "sensor index", 0, 255),
        _int(fields[8], "captured_ms"),
        lux,
        fields[10] == "1",
        _float(fields[11], "gain"),
        _float(fields[12], "integration_ms"),
        counts,
    )


def _temperature(fields: list[str]) -> TemperatureData:
    _expect(fields, 11, "temperature")
    device_id, boot_id, seq, uptime_ms, oldest = _header(fields)
    rh = _float(fields[10], "relative humidity") if fields[10] else None
    return TemperatureData(
        device_id,
        boot_id,
        seq,
        uptime_ms,
        oldest,
        _int(fields[7], "sensor index", 0, 255),
        _int(fields[8], "captured_ms"),
        _float(fields[9], "celsius"),
        rh,
    )


def _fault(fields: list[str]) -> FaultData:
    _expect(fields, 11, "fault")
    device_id, boot_id, seq, uptime_ms, oldest = _header(fields)
    return FaultData(
        device_id,
        boot_id,
        seq,
        uptime_ms,
        oldest,
        _int(fields[7], "sensor index", 0, 255),
        _int(fields[8], "captured_ms"),
        _name(fields[9], "fault kind"),
        fields[10],
    )


def _ack(fields: list[str]) -> Ack:
    _expect(fields, 5, "ack")
    return Ack(_name(fields[2], "device id"), _name(fields[3], "boot id"), _int(fields[4], "seq"))


def _query(fields: list[str]) -> Query:
    _expect(fields, 2, "query")
    return Query()


_PARSERS: "dict[str, Callable[[list[str]], Message]]" = {
    LIGHT: _light,
    TEMPERATURE: _temperature,
    FAULT: _fault,
    HELLO: _hello,
    ACK: _ack,
    QUERY: _query,
}


def decode(line: bytes) -> "Message":
    """The message in one line (newline removed); raises only :class:`FrameError`."""
    fields = decode_fields(line)
    parser = _PARSERS.get(fields[1])
    if parser is None:
        raise MalformedError(f"unknown frame type {fields[1][:8]!r}")
    if fields[1] not in (ACK, QUERY) and len(fields) < 7:
        raise MalformedError(f"{fields[1]} frame has {len(fields)} fields, too few for its header")
    message = parser(fields)
    if isinstance(message, DeviceFrame):
        # A data frame's own number is held, so oldest <= seq; a hello's seq is the last used.
        newest = message.seq + 1 if isinstance(message, Hello) else message.seq
        if not 1 <= message.oldest <= newest:
            raise MalformedError(f"oldest {message.oldest} is outside 1..{newest}")
    return message
