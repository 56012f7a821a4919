"""What a location's data can vouch for: the dose and heat over a stretch, as ranges.

The ledger gives the best estimate; the data bound what it cannot see (photokinetics.md §7): the light
sensor's calibration uncertainty, time without readings (gaps, before the first and after the last),
saturated readings (lower bounds only), and for the thermal term the activation energy's range and the
temperature probe's calibration. Each function appends a line saying what widened the range, for the API's
``potency_uncertainty``.
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np

from monitor.model import kinetics
from monitor.model.bounds import Interval
from monitor.model.constants import Constant
from monitor.model.profiles import DrugModel
from monitor.store import health, readings, sites

SECONDS_PER_HOUR = 3600.0
# Without a configured worst case, light in a gap is bounded by the highest lux seen over the segment and
# this long either side of it (by whole clock hours).
HIGHEST_SEEN_WINDOW_SECONDS = 86_400.0


def _unseen_seconds(conn: sqlite3.Connection, sensor: sites.SensorRecord, start: float, end: float) -> float:
    """Time in [start, end] the sensor did not cover: recorded gaps, and before its first or after its
    last reading when that is longer than a gap (after it, a gap beyond the bridge's commit window: readings
    spooled but not yet committed are not a silence)."""
    gap = conn.execute(
        "SELECT COALESCE(SUM(MIN(end_ts, ?) - MAX(start_ts, ?)), 0) FROM gaps"
        " WHERE sensor_id = ? AND end_ts > ? AND start_ts < ?",
        (end, start, sensor.id, start, end),
    ).fetchone()[0]
    # Two single-ended queries: SQLite answers each from the primary key, but MIN and MAX together scan.
    first_row = (
        conn.execute(
            "SELECT first_ts FROM minute_aggregates WHERE sensor_id = ? ORDER BY minute_ts LIMIT 1",
            (sensor.id,),
        ).fetchone()
        or conn.execute(  # the oldest readings may be aggregated past retention
            "SELECT ts FROM light_readings WHERE sensor_id = ? ORDER BY ts LIMIT 1", (sensor.id,)
        ).fetchone()
    )
    if first_row is None:
        return end - start
    last_row = conn.execute(
        "SELECT ts FROM light_readings WHERE sensor_id = ? ORDER BY ts DESC LIMIT 1", (sensor.id,)
    ).fetchone()
    first, last = float(first_row[0]), float(last_row[0])
    head = min(end, first) - start if first - start > sensor.max_gap_seconds else 0.0
    tolerance = sensor.max_gap_seconds + health.report_lag_seconds(conn)
    tail = end - max(start, last) if end - last > tolerance else 0.0
    return min(float(gap) + max(head, 0.0) + max(tail, 0.0), end - start)


def _highest_lux(
    conn: sqlite3.Connection, sensor: sites.SensorRecord, start: float, end: float
) -> float | None:
    """The highest lux recorded over the segment and a day either side of it, by whole clock hours (the
    store keeps each hour's maximum, so a month-long segment reads a month of hours, not of readings;
    configure ``worst_case_lux`` for a bound that does not depend on what happened to be seen).

    The day after matters for a stretch in the past, above all the time between a vial's registration and
    its sensor's first reading: with only the day before, nothing bounds it and the potency's low bound
    would fall to zero for a few seconds unseen. For the live potency (``end`` now) there is no after.
    """
    since, until = min(start, end - HIGHEST_SEEN_WINDOW_SECONDS), end + HIGHEST_SEEN_WINDOW_SECONDS
    return readings.highest_lux(conn, sensor, since, until)


_SATURATED = (
    "SELECT {what} FROM light_readings{hint} WHERE sensor_id = ? AND saturated = 1 AND ts BETWEEN ? AND ?"
)


def _saturated_query(conn: sqlite3.Connection, what: str, args: tuple[float, ...]) -> list[tuple[float, ...]]:
    """Saturated readings of a sensor in a time range.

    The partial index holds only saturated rows; without statistics the planner prefers the primary key
    and scans the whole stretch, so the index is named. A database whose index is missing (rebuilt by
    hand) still answers, by the scan.
    """
    try:
        sql = _SATURATED.format(what=what, hint=" INDEXED BY light_readings_saturated")
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return conn.execute(_SATURATED.format(what=what, hint=""), args).fetchall()


def saturated_readings(
    conn: sqlite3.Connection, sensor_id: int, start: float, end: float
) -> list[tuple[float, float]]:
    """``(ts, lux)`` of the saturated readings in [start, end], oldest first."""
    rows = _saturated_query(conn, "ts, lux", (sensor_id, start, end))
    return sorted((float(t), float(v)) for t, v in rows)


def _saturated(conn: sqlite3.Connection, sensor_id: int, start: float, end: float) -> tuple[int, float]:
    """Count and lux sum of saturated readings in [start, end], raw and aggregated past retention."""
    args = (sensor_id, start, end)
    row = _saturated_query(conn, "COUNT(*), COALESCE(SUM(lux), 0)", args)[0]
    old = conn.execute(  # minutes aggregated past retention keep their saturated count and lux sum
        "SELECT COALESCE(SUM(saturated), 0), COALESCE(SUM(saturated_sum), 0) FROM minute_aggregates"
        " WHERE sensor_id = ? AND saturated > 0 AND first_ts >= ? AND last_ts <= ?",
        args,
    ).fetchone()
    return int(row[0]) + int(old[0]), float(row[1]) + float(old[1])


def dose_range(
    conn: sqlite3.Connection,
    light: sites.SensorRecord | None,
    worst: float | None,
    start: float,
    end: float,
    notes: list[str],
    assumption: tuple[str, Constant] | None = None,
) -> tuple[Interval, bool]:
    """Lux·h at a location over [start, end]: best from the ledger of its ``light`` sensor, and what the
    sensor cannot rule out, with ``worst`` the location's worst-case lux (None: the highest seen); light
    nothing else bounds at ``assumed`` (the packaging's assumed lux for unseen light), if given."""
    hours = (end - start) / SECONDS_PER_HOUR
    assumed = None if assumption is None else assumption[1].highest

    def taken(what: str) -> str:
        assert assumption is not None
        packaging, a = assumption
        return (
            f"{what} in '{packaging}' taken at up to {a.highest:g} lx, an assumption ({a.value:g} lx,"
            f" range {a.lowest:g}-{a.highest:g}: {a.source})"
        )

    if light is None:
        if worst is None and assumed is not None:
            notes.append(taken(f"no light sensor and no worst-case lux at the location: {hours:.3g} h"))
            return Interval(0.0, 0.0, assumed * hours), False
        if worst is None:
            notes.append("no light sensor and no worst-case lux at the location: light unbounded")
            return Interval.exact(0.0), True
        notes.append(f"no light sensor: {hours:.3g} h at the worst case {worst:g} lx")
        return Interval(0.0, 0.0, worst * hours), False
    best = readings.cumulative_at(conn, light, end) - readings.cumulative_at(conn, light, start)
    unseen = _unseen_seconds(conn, light, start, end) / SECONDS_PER_HOUR
    covered = max(hours - unseen, 0.0)
    u = light.calibration_uncertainty or 0.0
    low, high, unbounded = max(best - u * covered, 0.0), best + u * covered, False
    if u > 0:
        notes.append(f"sensor {light.key}: calibration ±{u:g} lx over {covered:.3g} h")
    if unseen > 0:
        bound = worst if worst is not None else _highest_lux(conn, light, start, end)
        if bound is None and assumed is not None:
            notes.append(taken(f"sensor {light.key}: {unseen:.3g} h without data"))
            high += assumed * unseen
        elif bound is None:
            notes.append(f"sensor {light.key}: {unseen:.3g} h without data and nothing to bound it")
            unbounded = True
        else:
            which = "worst case" if worst is not None else "highest seen"
            notes.append(f"sensor {light.key}: {unseen:.3g} h without data at the {which} {bound:g} lx")
            high += bound * unseen
    saturated = _saturated(conn, light.id, start, end)
    if saturated[0]:
        count, lux_sum = int(saturated[0]), float(saturated[1])
        up_to = worst if worst is not None else assumed
        if up_to is None:
            notes.append(f"sensor {light.key}: {count} saturated readings (lower bounds) and no worst case")
            unbounded = True
        else:
            # Each saturated reading stands for one polling interval of light at up to the worst case.
            excess = max(up_to * count - lux_sum, 0.0) * light.interval_seconds / SECONDS_PER_HOUR
            if worst is None:
                notes.append(taken(f"sensor {light.key}: {count} saturated readings"))
            else:
                notes.append(f"sensor {light.key}: {count} saturated readings taken up to {up_to:g} lx")
            high += excess
    return Interval(best, min(low, best), high), unbounded


def thermal_range(
    drug: DrugModel,
    temp: sites.SensorRecord | None,
    reference_hours: float,
    hours: float,
    notes: list[str],
) -> Interval:
    """Θ over the activation energy's range and ± the temperature sensor's calibration uncertainty.

    Taken at the segment's effective temperature (the one whose Arrhenius factor gives Θ over its hours):
    exact for a constant temperature, and the thermal term is small beside the light term's range.
    """
    if temp is None or reference_hours <= 0 or hours <= 0:
        return Interval.exact(reference_hours)
    ea, t_ref = drug.activation_energy_kj_per_mol, drug.t_ref_kelvin.value
    kelvin = 1.0 / (1.0 / t_ref - math.log(reference_hours / hours) / kinetics.ea_over_r(drug))
    u = temp.calibration_uncertainty or 0.0
    candidates = [reference_hours]
    for ea_kj in (ea.lowest, ea.value, ea.highest):
        for t in (kelvin - u, kelvin + u):
            factor = kinetics.arrhenius_factor(
                np.array([t], dtype=np.float64), ea_kj / kinetics.GAS_CONSTANT_KJ_PER_MOL_K, t_ref
            )
            candidates.append(hours * float(factor[0]))
    low, high = min(candidates), max(candidates)
    if high > low:
        notes.append(
            f"thermal: Ea {ea.lowest:g}-{ea.highest:g} kJ/mol"
            + (f", sensor {temp.key} ±{u:g} °C" if u else "")
            + f" about {kelvin - kinetics.CELSIUS_TO_KELVIN:.1f} °C"
        )
    return Interval(reference_hours, low, high)
