"""An emulated I2C bus that the genuine Adafruit drivers run on unchanged.

It is duck-typed like ``busio.I2C`` (``try_lock``, ``unlock``, ``scan``, ``writeto``, ``readfrom_into``,
``writeto_then_readfrom``) and dispatches each transaction to a :class:`ChipModel` at the address. Faults
are injected per address and surface exactly as Linux ``i2c-dev`` reports them, so the real error paths run:

- ``absent``: no chip answers; every transfer raises ``OSError(121, 'Remote I/O error')`` (a NACK) and
  ``scan`` leaves the address out. ``adafruit_bus_device`` turns that into ``ValueError`` at probe time.
- ``eio``: the chip is there but transfers fail with ``OSError(5, 'Input/output error')``.
- ``hang``: a stuck bus (SDA held low). The Pi's I2C controller driver aborts a transfer after its adapter
  timeout and ``i2c-dev`` returns ``OSError(110, 'Connection timed out')``; the emulator raises that at
  once, so a hang costs the caller a bounded time on real hardware and none here.

All transfers must come from one thread: ``adafruit_register`` shares a module-global buffer.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from typing import Literal, Protocol

Fault = Literal["absent", "eio", "hang"]
_FAULT_ERRORS: dict[Fault, tuple[int, str]] = {
    "absent": (errno.EREMOTEIO, "Remote I/O error"),
    "eio": (errno.EIO, "Input/output error"),
    "hang": (errno.ETIMEDOUT, "Connection timed out"),
}


class ChipModel(Protocol):
    """A chip's side of the bus: it receives written bytes and produces read bytes."""

    def write(self, data: bytes) -> None:
        """A write transfer: usually a register pointer, then data to store."""
        ...

    def read(self, length: int) -> bytes:
        """A read transfer of ``length`` bytes from the current register pointer."""
        ...


class EmulatedI2C:
    """An I2C bus with emulated chips at fixed 7-bit addresses."""

    def __init__(
        self, chips: dict[int, ChipModel] | None = None, schedule: Callable[[int], Fault | None] | None = None
    ) -> None:
        """``schedule(address)`` may return a fault for this instant (a simulation's scenario)."""
        self._chips: dict[int, ChipModel] = dict(chips or {})
        self._faults: dict[int, Fault] = {}
        self.schedule = schedule
        self._lock = threading.Lock()
        self.transfers = 0

    # -- fault injection -----------------------------------------------------------------------------

    def attach(self, address: int, chip: ChipModel) -> None:
        self._chips[address] = chip

    def chip(self, address: int) -> ChipModel:
        """The chip model at ``address``, to make it misbehave."""
        return self._chips[address]

    def inject(self, address: int, fault: Fault) -> None:
        """Make transfers to ``address`` fail as ``fault`` until :meth:`clear`."""
        self._faults[address] = fault

    def clear(self, address: int) -> None:
        self._faults.pop(address, None)

    # -- busio.I2C interface -------------------------------------------------------------------------

    def try_lock(self) -> bool:
        return self._lock.acquire(blocking=False)

    def unlock(self) -> None:
        self._lock.release()

    def deinit(self) -> None:
        """Nothing to release: the bus is in memory."""

    def scan(self) -> list[int]:
        return sorted(a for a in self._chips if self._faults.get(a) != "absent")

    def _chip(self, address: int) -> ChipModel:
        self.transfers += 1
        fault = self._faults.get(address)
        if fault is None and self.schedule is not None:
            fault = self.schedule(address)
        if fault is not None:
            code, text = _FAULT_ERRORS[fault]
            raise OSError(code, text)
        chip = self._chips.get(address)
        if chip is None:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        return chip

    def writeto(
        self, address: int, buffer: bytes | bytearray, *, start: int = 0, end: int | None = None
    ) -> None:
        chip = self._chip(address)
        data = bytes(buffer[start:end])
        if data:  # a zero-length write is adafruit_bus_device's presence probe
            chip.write(data)

    def readfrom_into(
        self, address: int, buffer: bytearray, *, start: int = 0, end: int | None = None
    ) -> None:
        chip = self._chip(address)
        stop = len(buffer) if end is None else end
        buffer[start:stop] = chip.read(stop - start)

    def writeto_then_readfrom(
        self,
        address: int,
        buffer_out: bytes | bytearray,
        buffer_in: bytearray,
        *,
        out_start: int = 0,
        out_end: int | None = None,
        in_start: int = 0,
        in_end: int | None = None,
    ) -> None:
        chip = self._chip(address)
        chip.write(bytes(buffer_out[out_start:out_end]))
        stop = len(buffer_in) if in_end is None else in_end
        buffer_in[in_start:stop] = chip.read(stop - in_start)
