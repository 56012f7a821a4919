"""A site's configuration rows (locations, sensors, vials, settings) applied at central as upserts.

Each row is the site's row as it stands after a change (``monitor/store/config_mirror.py``), applied in
the batch's transaction in the order the site numbered it, after being stored verbatim with the batch's
other records. A row central cannot apply (a sensor naming a location central does not hold for the
site, a missing or mistyped field, a value the schema refuses) is kept apart in ``config_refusals`` with
the reason, under a savepoint: the batch's other rows, and the site's point, go on as if it were not
there, so one bad row never holds a site's readings back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from fleet.protocol import Row
from monitor.store.config_mirror import CONFIG_KINDS

Connection = psycopg.Connection[tuple[Any, ...]]


class _Refused(Exception):  # a row's refusal: caught in this module, never raised out of it
    """The row cannot be applied; the message says why."""


def _text(record: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = record.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _Refused(f"{name}: a non-empty text is required, got {value!r}")
    return value


def _number(record: dict[str, Any], name: str, *, optional: bool = False) -> float | None:
    value = record.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refused(f"{name}: a number is required, got {value!r}")
    return float(value)


def _id(record: dict[str, Any]) -> int:
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refused(f"id: the site's integer id is required, got {value!r}")
    return value


def _flag(record: dict[str, Any], name: str) -> bool:
    value = record.get(name)
    if not isinstance(value, bool):
        raise _Refused(f"{name}: true or false is required, got {value!r}")
    return value


def _limits(record: dict[str, Any]) -> Jsonb | None:
    value = record.get("rule_limits")
    if value is None:  # a site before its migration 23, or not started since
        return None
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    ):
        raise _Refused(f"rule_limits: an object of numbers is required, got {value!r}")
    return Jsonb({str(k): float(v) for k, v in value.items()})


def _moment(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _location(conn: Connection, site: str, r: dict[str, Any], at: datetime) -> None:
    conn.execute(
        "INSERT INTO site_locations (site, site_id, key, name, kind, lamp, worst_case_lux, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (site, site_id) DO UPDATE SET"
        " key = excluded.key, name = excluded.name, kind = excluded.kind, lamp = excluded.lamp,"
        " worst_case_lux = excluded.worst_case_lux, updated_at = excluded.updated_at",
        (
            site,
            _id(r),
            _text(r, "key"),
            _text(r, "name"),
            _text(r, "kind"),
            _text(r, "lamp", optional=True),
            _number(r, "worst_case_lux", optional=True),
            at,
        ),
    )


def _sensor(conn: Connection, site: str, r: dict[str, Any], at: datetime) -> None:
    location = _text(r, "location")
    found = conn.execute(
        "SELECT site_id FROM site_locations WHERE site = %s AND key = %s", (site, location)
    ).fetchone()
    if found is None:
        raise _Refused(
            f"sensor {r.get('key')!r} names location {location!r}, which central does not hold for site"
            f" {site!r} (a location row must come first)"
        )
    conn.execute(
        "INSERT INTO site_sensors (site, site_id, key, location_id, quantity, driver, interval_seconds,"
        " max_gap_seconds, status, status_detail, status_since, calibration_certificate,"
        " calibration_due_at, calibration_uncertainty, spectral, near_uv, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (site, site_id) DO UPDATE SET key = excluded.key, location_id = excluded.location_id,"
        " quantity = excluded.quantity, driver = excluded.driver,"
        " interval_seconds = excluded.interval_seconds, max_gap_seconds = excluded.max_gap_seconds,"
        " status = excluded.status, status_detail = excluded.status_detail,"
        " status_since = excluded.status_since, calibration_certificate = excluded.calibration_certificate,"
        " calibration_due_at = excluded.calibration_due_at,"
        " calibration_uncertainty = excluded.calibration_uncertainty, spectral = excluded.spectral,"
        " near_uv = excluded.near_uv, updated_at = excluded.updated_at",
        (
            site,
            _id(r),
            _text(r, "key"),
            int(found[0]),
            _text(r, "quantity"),
            _text(r, "driver"),
            _number(r, "interval_seconds"),
            _number(r, "max_gap_seconds"),
            _text(r, "status"),
            r.get("status_detail") if isinstance(r.get("status_detail"), str) else "",
            _moment(_number(r, "status_since", optional=True)),
            _text(r, "calibration_certificate", optional=True),
            _moment(_number(r, "calibration_due_ts", optional=True)),
            _number(r, "calibration_uncertainty", optional=True),
            _flag(r, "spectral"),
            _flag(r, "near_uv"),
            at,
        ),
    )


def _vial(conn: Connection, site: str, r: dict[str, Any], at: datetime) -> None:
    conn.execute(
        "INSERT INTO site_vials (site, site_id, key, drug, form, lot, expiry, initial_potency_percent,"
        " registered_ts, status, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (site, site_id) DO UPDATE SET key = excluded.key, drug = excluded.drug,"
        " form = excluded.form, lot = excluded.lot, expiry = excluded.expiry,"
        " initial_potency_percent = excluded.initial_potency_percent,"
        " registered_ts = excluded.registered_ts, status = excluded.status, updated_at = excluded.updated_at",
        (
            site,
            _id(r),
            _text(r, "key"),
            _text(r, "drug"),
            _text(r, "form"),
            _text(r, "lot"),
            _text(r, "expiry", optional=True),
            _number(r, "initial_potency_percent"),
            _number(r, "registered_ts"),
            _text(r, "status"),
            at,
        ),
    )


def _setting(conn: Connection, site: str, r: dict[str, Any], at: datetime) -> None:
    conn.execute(
        "INSERT INTO site_settings (site, report_lag_seconds, potency_warning_percent,"
        " potency_critical_percent, drug_profiles_sha256, vialguard_version, rule_limits, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (site) DO UPDATE SET"
        " report_lag_seconds = excluded.report_lag_seconds,"
        " potency_warning_percent = excluded.potency_warning_percent,"
        " potency_critical_percent = excluded.potency_critical_percent,"
        " drug_profiles_sha256 = excluded.drug_profiles_sha256,"
        " vialguard_version = excluded.vialguard_version, rule_limits = excluded.rule_limits,"
        " updated_at = excluded.updated_at",
        (
            site,
            _number(r, "report_lag_seconds"),
            _number(r, "potency_warning_percent", optional=True),
            _number(r, "potency_critical_percent", optional=True),
            _text(r, "drug_profiles_sha256", optional=True),
            _text(r, "vialguard_version", optional=True),
            _limits(r),
            at,
        ),
    )


_APPLY: dict[str, Callable[[Connection, str, dict[str, Any], datetime], None]] = {
    "location": _location,
    "sensor": _sensor,
    "vial": _vial,
    "site-setting": _setting,
}
assert set(_APPLY) == set(CONFIG_KINDS)


@dataclass(frozen=True, slots=True)
class Applied:
    applied: int
    refused: int


def apply(conn: Connection, site: str, epoch: str, rows: Sequence[Row], received: datetime) -> Applied:
    """Apply the configuration rows of ``rows`` in order, inside the caller's transaction; refuse, with
    the reason, each that cannot be."""
    applied = refused = 0
    for row in rows:
        if row.kind not in _APPLY or row.record is None:
            continue
        problem: str | None = None
        try:
            with conn.transaction():  # a savepoint: a refused row leaves the batch's transaction intact
                _APPLY[row.kind](conn, site, row.record, received)
        except _Refused as exc:
            problem = str(exc)
        except psycopg.errors.IntegrityError as exc:  # a constraint: a CHECK, a key taken by another id
            problem = f"the row breaks a rule of central's schema: {exc.diag.message_primary or exc}"
        if problem is None:
            applied += 1
            continue
        refused += 1
        conn.execute(
            "INSERT INTO config_refusals (site, epoch, seq, kind, problem, record, received_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (
                site,
                epoch,
                row.seq,
                row.kind,
                f"{row.kind} row {row.seq}: {problem}",
                Jsonb(row.record),
                received,
            ),
        )
    return Applied(applied, refused)
