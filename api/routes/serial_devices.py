"""The serial path: the microcontrollers the bridge has heard and when last, and what each port refused."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import State, StoreDep

router = APIRouter(prefix="/api/v1", tags=["sensors"])


class SerialDevice(BaseModel):
    device_id: str
    boot_id: str  # the boot heard from last; a new one at every reboot
    firmware_version: str
    last_seen_ts: float
    last_seen_age_seconds: float
    frames_acknowledged: int  # of that boot: stored (or known lost) and acknowledged to the device
    boots: int  # boots of this device heard of since the database was made


class SerialReject(BaseModel):
    port: str  # the port's pyserial URL, as configured
    kind: str  # noise, truncated, checksum, overlong, version, malformed, before-hello, duplicate, lost, ...
    count: int  # since the database began, as of the bridge's last commit
    first_ts: float  # the bridge's commit that first counted one
    last_ts: float  # and the latest that added to it


@router.get("/serial-devices", response_model=list[SerialDevice])
def list_serial_devices(store: StoreDep, state: State) -> list[SerialDevice]:
    """One entry per device: its latest boot. An old ``last_seen`` with a live bridge: unplugged or hung."""
    now = state.clock.wall()
    out: dict[str, SerialDevice] = {}
    for boot in store.serial_boots():
        seen = out.get(boot.device_id)
        if seen is not None:
            seen.boots += 1
            continue
        out[boot.device_id] = SerialDevice(
            device_id=boot.device_id,
            boot_id=boot.boot_id,
            firmware_version=boot.firmware_version,
            last_seen_ts=boot.last_seen_ts,
            last_seen_age_seconds=round(max(now - boot.last_seen_ts, 0.0), 3),
            frames_acknowledged=boot.acked_through,
            boots=1,
        )
    return list(out.values())


@router.get("/serial-rejects", response_model=list[SerialReject])
def list_serial_rejects(store: StoreDep) -> list[SerialReject]:
    """Serial input each port refused or set aside, by kind (docs/serial-protocol.md, "Bad input").

    A count that keeps growing names a noisy cable or a board speaking another protocol; ``duplicate``
    (a frame sent again after a lost acknowledgement) and ``lost`` (frames the board's buffer dropped,
    recorded as gaps) are counted here too.
    """
    return [
        SerialReject(port=r.port, kind=r.kind, count=r.count, first_ts=r.first_ts, last_ts=r.last_ts)
        for r in store.serial_rejects()
    ]
