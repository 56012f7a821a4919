"""The frame codec: round trips, every class of bad input, and recovery on the very next good frame."""

from __future__ import annotations

import binascii
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge import frames as f


def light(seq: int = 1) -> f.LightData:
    return f.LightData("pico-1", "0a1b2c3d", seq, 5_000, 1, 0, 4_990, 12.5, False, 25.0, 100.0, (812, 140))


def messages() -> list[object]:
    return [
        light(),
        f.TemperatureData("pico-1", "0a1b2c3d", 2, 5_001, 1, 1, 4_999, 4.8125, None),
        f.TemperatureData("pico-1", "0a1b2c3d", 3, 5_002, 1, 2, 4_999, -3.5, 41.25),
        f.FaultData("pico-1", "0a1b2c3d", 4, 5_003, 1, 0, 5_000, "unavailable", "no chip, at 0x29*$"),
        f.Hello(
            "pico-1",
            "0a1b2c3d",
            4,
            5_004,
            1,
            "0.1.0",
            29,
            0,
            [f.SensorInfo(0, "fridge-1-lux", "tsl2591", "light", 1000)],
        ),
        f.Ack("pico-1", "0a1b2c3d", 17),
        f.Query(),
    ]


@pytest.mark.parametrize("message", messages(), ids=lambda m: type(m).__name__)
def test_every_message_round_trips(message: f.LightData) -> None:
    """Encoding then decoding gives back every field (fault details lose only their separators)."""
    line = message.encode()
    assert line.startswith(b"$")
    assert line.endswith(b"\n")
    back = f.decode(line[:-1])
    expected = dict(vars(message))
    if isinstance(message, f.FaultData):
        expected["detail"] = f.clean_detail(message.detail)
    if isinstance(message, f.Hello):
        assert [vars(s) for s in back.sensors] == [vars(s) for s in message.sensors]  # type: ignore[union-attr]
        expected.pop("sensors")
        got = {k: v for k, v in vars(back).items() if k != "sensors"}
    else:
        got = vars(back)
    assert type(back) is type(message)
    assert got == expected


@given(st.binary(max_size=300))
def test_pure_crc_matches_the_c_one(data: bytes) -> None:
    """The firmware's table CRC equals binascii.crc_hqx with init 0xFFFF (CRC-16/CCITT-FALSE)."""
    assert f.crc16_pure(data) == binascii.crc_hqx(data, 0xFFFF)


def test_crc_check_value() -> None:
    """CRC-16/CCITT-FALSE of '123456789' is 0x29B1 (the catalogue check value)."""
    assert f.crc16_pure(b"123456789") == 0x29B1


GOOD = light(7).encode()


def _with_crc(body: bytes) -> bytes:
    return b"$" + body + b"*" + b"%04X" % f.crc16(body) + b"\n"


BAD_LINES: dict[str, tuple[bytes, type[f.FrameError]]] = {
    "line-noise": (b"\x00\xff\x13garbage\n", f.NoiseError),
    "truncated": (GOOD[: len(GOOD) // 2] + b"\n", f.TruncatedError),
    "crc-missing-digit": (GOOD[:-2] + b"\n", f.TruncatedError),
    "bad-crc": (GOOD[:10] + (b"X" if GOOD[10:11] != b"X" else b"Y") + GOOD[11:], f.ChecksumError),
    "unknown-version": (_with_crc(b"9,L,pico-1,b,1,1,1,0,1,1,0,1,100,1:1"), f.VersionError),
    "unknown-type": (_with_crc(b"1,Z,pico-1,b,1,1,1"), f.MalformedError),
    "missing-field": (_with_crc(b"1,L,pico-1,b,1,1,1,0,1,1,0,1,100"), f.MalformedError),
    "not-a-number": (_with_crc(b"1,T,pico-1,b,1,1,1,0,1,warm,"), f.MalformedError),
    "nan": (_with_crc(b"1,T,pico-1,b,1,1,1,0,1,nan,"), f.MalformedError),
    "negative-seq": (_with_crc(b"1,T,pico-1,b,-1,1,1,0,1,4.0,"), f.MalformedError),
    "unicode-digit": (_with_crc("1,T,pico-1,b,\u0661,1,1,0,1,4.0,".encode()), f.MalformedError),
    "bad-device-id": (_with_crc(b"1,T,Pico 1,b,1,1,1,0,1,4.0,"), f.MalformedError),
    "non-ascii": (_with_crc("1,T,pico-1,b,1,1,1,0,1,4.0,é".encode()), f.MalformedError),
}


@pytest.mark.parametrize("case", list(BAD_LINES), ids=str)
def test_bad_line_is_rejected_with_its_kind_and_the_next_frame_survives(case: str) -> None:
    """Each bad line raises its own FrameError kind; the good frame right after it decodes."""
    bad, error = BAD_LINES[case]
    splitter = f.LineSplitter()
    items = splitter.feed(bad + GOOD)
    errors = [i for i in items if isinstance(i, f.FrameError)]
    lines = [i for i in items if isinstance(i, bytes)]
    for line in lines[:-1]:
        with pytest.raises(error):
            f.decode(line)
    if not lines[:-1]:
        assert any(isinstance(e, error) for e in errors)
    assert vars(f.decode(lines[-1])) == vars(light(7))


def test_garbage_glued_to_a_frame_costs_only_the_garbage() -> None:
    """Noise with no newline before a frame is reported as noise; the frame itself decodes."""
    items = f.LineSplitter().feed(b"\x07\x08zz" + GOOD)
    assert isinstance(items[0], f.NoiseError)
    assert isinstance(items[1], bytes)
    assert f.decode(items[1]).seq == 7  # type: ignore[union-attr]


def test_truncated_frame_glued_to_a_frame_costs_only_itself() -> None:
    """A frame cut off mid-line (device reset) followed by a whole frame: the whole one decodes."""
    items = f.LineSplitter().feed(GOOD[:25] + GOOD)
    lines = [i for i in items if isinstance(i, bytes)]
    assert [f.decode(x).seq for x in lines] == [7]  # type: ignore[union-attr]


def test_overlong_line_reported_once_and_the_next_frame_survives() -> None:
    """A run of 10 kB without a newline is one overlong error; the frame after it decodes."""
    splitter = f.LineSplitter()
    items = []
    for _ in range(10):
        items += splitter.feed(b"A" * 1000)
    items += splitter.feed(b"\n" + GOOD)
    assert [type(i) for i in items] == [f.OverlongError, bytes]
    assert f.decode(items[-1]).seq == 7  # type: ignore[arg-type, union-attr]


def test_garbage_flood_then_frames_all_frames_survive() -> None:
    """100 kB of random bytes fed in odd-sized chunks, then 50 frames: all 50 decode."""
    import random

    rng = random.Random(4)
    flood = bytes(rng.getrandbits(8) for _ in range(100_000)).replace(b"$", b"?")
    stream = flood + b"\n" + b"".join(light(s).encode() for s in range(1, 51))
    splitter = f.LineSplitter()
    got: list[int] = []
    pos = 0
    while pos < len(stream):
        n = rng.randint(1, 700)
        for item in splitter.feed(stream[pos : pos + n]):
            if isinstance(item, bytes):
                with contextlib.suppress(f.FrameError):
                    got.append(f.decode(item).seq)  # type: ignore[union-attr]
        pos += n
    assert got[-50:] == list(range(1, 51))


def test_frame_split_across_reads_decodes() -> None:
    """A frame arriving one byte at a time is one line."""
    splitter = f.LineSplitter()
    items = [i for b in GOOD for i in splitter.feed(bytes([b]))]
    assert len(items) == 1
    assert f.decode(items[0]).seq == 7  # type: ignore[arg-type, union-attr]


@given(st.binary(max_size=400))
def test_decode_raises_only_its_own_error_on_any_bytes(data: bytes) -> None:
    """Any bytes: decode returns a message or raises FrameError, never anything else."""
    with contextlib.suppress(f.FrameError):
        f.decode(data)


@given(st.lists(st.binary(max_size=80), max_size=20))
def test_splitter_then_decode_never_raises_foreign_errors(chunks: list[bytes]) -> None:
    """Any chunked byte stream: the splitter yields lines or FrameErrors; lines never exceed MAX_LINE."""
    splitter = f.LineSplitter()
    for chunk in chunks:
        for item in splitter.feed(chunk):
            if isinstance(item, bytes):
                assert len(item) <= f.MAX_LINE
                with contextlib.suppress(f.FrameError):
                    f.decode(item)


@given(
    st.builds(
        light,
        st.integers(min_value=1, max_value=2**32 - 1),
    ),
    st.binary(max_size=60).map(lambda b: b.replace(b"$", b"").replace(b"\n", b"")),
)
def test_any_garbage_before_a_frame_never_costs_it(frame: f.LightData, garbage: bytes) -> None:
    """Garbage (without '$' or newline) right before a frame: the frame still decodes."""
    items = f.LineSplitter().feed(garbage + frame.encode())
    lines = [i for i in items if isinstance(i, bytes)]
    assert f.decode(lines[-1]).seq == frame.seq  # type: ignore[union-attr]


# Printable field text without separators: what survives framing, so the field parsers themselves are reached.
FIELD = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=",*$"), max_size=14
)


@given(st.sampled_from(["L", "T", "F", "H", "A", "Q", "X", ""]), st.lists(FIELD, max_size=16))
def test_any_fields_behind_a_good_crc_raise_only_its_own_error(kind: str, fields: list[str]) -> None:
    """Any fields of any frame type, with a correct CRC: decode returns a message or raises FrameError."""
    line = f.encode_fields(["1", kind, *fields])[:-1]
    with contextlib.suppress(f.FrameError):
        f.decode(line)


@given(
    st.sampled_from(messages()),
    st.integers(min_value=0, max_value=40),
    st.one_of(FIELD, st.integers().map(str), st.floats().map(str)),
)
def test_one_field_of_a_good_frame_changed_raises_only_its_own_error(
    message: f.LightData, index: int, value: str
) -> None:
    """A real frame with one field replaced and the CRC made good again: a message or a FrameError, and a
    message that decodes encodes to a line that decodes the same (when its numbers still fit on a line)."""
    fields = message.encode()[1:-6].decode().split(",")
    fields[index % len(fields)] = value
    try:
        back = f.decode(f.encode_fields(fields)[:-1])
    except f.FrameError:
        return
    line = back.encode()[:-1]
    if len(line) <= f.MAX_LINE:  # "1e9" °C is accepted, and written back out in full it can be longer
        assert type(f.decode(line)) is type(back)


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (f.LightData("p", "0a1b2c3d", 5, 9, 6, 0, 9, 1.0, False, 1.0, 100.0, ()), "oldest 6 is outside 1..5"),
        (f.LightData("p", "0a1b2c3d", 5, 9, 0, 0, 9, 1.0, False, 1.0, 100.0, ()), "oldest 0 is outside"),
        (f.Hello("pico-1", "0a1b2c3d", 4, 9, 6, "0.1.0", 29, 0, []), "oldest 6 is outside 1..5"),
    ],
    ids=["data-oldest-past-its-own-seq", "oldest-zero", "hello-oldest-past-next"],
)  # fmt: skip
def test_oldest_that_cannot_be_true_is_malformed(message: f.LightData, problem: str) -> None:
    """A device holds the frame it sends: an ``oldest`` past it is refused, not read as a loss."""
    with pytest.raises(f.MalformedError, match=problem):
        f.decode(message.encode()[:-1])
