"""Everything a process would find wrong with its settings, checked before any process starts.

``vialguard run`` starts children that each load the settings again; a setting they refuse would make each
of them exit, be restarted and exit again, with the reason buried in their logs. So the parent checks here
what the children would (pydantic's checks already ran in :func:`monitor.config.load_settings`): the
drivers are known for their quantity and place, the simulated lamp is known, every serial URL parses, the
API's address resolves and its port is free, the simulation's speed is a positive number, and no bridge
holds the database (:mod:`monitor.store.bridge_lock`). A problem is a :class:`monitor.errors.ConfigError`
naming the file (or option), the key and the reason (or :class:`monitor.errors.DatabaseBusy` naming the
holder), which the command line prints as one line, with exit status 2.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket

import serial

from firmware_bridge.sensors import check_drivers
from hardware.spectra import LAMP_SOURCES
from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.store import bridge_lock
from vialguard.options import clock_from

SHIPPED = "simulated.toml (shipped)"


def origin_of(args: argparse.Namespace) -> str:
    """The settings' file as the user named it, for messages."""
    return str(args.config) if args.config is not None else SHIPPED


def check_settings(settings: Settings, origin: str, *, simulate: bool) -> None:
    """What the bridge and the API would refuse at their start."""
    try:
        check_drivers(settings, simulate=simulate)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from exc
    if simulate and settings.simulation.lamp not in LAMP_SOURCES:
        raise ConfigError(
            f"{origin}: simulation.lamp: unknown lamp {settings.simulation.lamp!r};"
            f" known: {', '.join(sorted(LAMP_SOURCES))}"
        )
    keys = {s.key for s in settings.sensors}
    for i, sc in enumerate(settings.simulation.scenarios):
        if sc.sensor is not None and sc.sensor not in keys:
            raise ConfigError(
                f"{origin}: simulation.scenarios[{i}].sensor: no sensor {sc.sensor!r};"
                f" known: {', '.join(sorted(keys))}"
            )
    for i, source in enumerate(settings.bridge.serial):
        problem = serial_url_problem(source.url)
        if problem is not None:
            raise ConfigError(f"{origin}: bridge.serial[{i}].url: {problem}")


def serial_url_problem(url: str) -> str | None:
    """Why pyserial could never open ``url``, or ``None``. A device path need not exist yet (a board is
    plugged in later); a URL's scheme must be one pyserial knows and its address must parse."""
    if "://" not in url:
        if not os.path.isabs(url):
            return f"{url!r} is neither an absolute device path (/dev/ttyACM0) nor a pyserial URL"
        return None
    try:
        port = serial.serial_for_url(url, do_not_open=True)
        from_url = getattr(port, "from_url", None)
        if from_url is not None:
            from_url(url)
    except (ValueError, KeyError, TypeError, serial.SerialException) as exc:  # as pyserial fails to parse
        return f"{url!r} is not a serial URL pyserial can open: {exc}"
    return None


def check_port(host: str, port: int, origin: str = "api") -> None:
    """The API's address resolves and its port is free to bind (port 0: any free one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"{origin}: api.host: {host!r} does not resolve: {exc.strerror}") from exc
    if port == 0:
        return
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                sock.bind(address)
            except OSError as exc:
                why = "it is taken by another process" if exc.errno == errno.EADDRINUSE else exc.strerror
                raise ConfigError(
                    f"{origin}: api.port: cannot listen on {host}:{port}: {why}"
                    " (another vialguard, or set [api] port / --port)"
                ) from exc
            return  # the first address is the one uvicorn binds


def check_run(args: argparse.Namespace, settings: Settings) -> None:
    """Everything ``vialguard run`` must know before it starts a child."""
    origin = origin_of(args)
    clock_from(args)  # --speed: refused here, not in each child at every restart
    check_settings(settings, origin, simulate=args.simulate)
    check_port(settings.api.host, settings.api.port, origin)
    bridge_lock.check_free(settings.db_path)  # a bridge left running (a killed supervisor's) holds it
