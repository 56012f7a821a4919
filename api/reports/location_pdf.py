"""The location report: the daily min/max sheet, excursions, door openings, light dose, MKT and alerts."""

from __future__ import annotations

from api.reports.layout import Report, duration, local_time, number, zone_name
from monitor.reporting import LocationReport
from monitor.timestamps import format_utc

MAX_OPENING_ROWS = 400
_KIND = {"temperature-high": "above range", "temperature-low": "below range", "light": "light"}


def _day(day: int) -> str:
    return format_utc(day * 86_400, "%a %Y-%m-%d")


def location_pdf(r: LocationReport, site_name: str, generated_at: float) -> bytes:
    off = r.utc_offset_seconds
    rules = r.rules
    loc = r.location
    pdf = Report(f"{loc.name} ({loc.key}): storage report", generated_at)
    pdf.heading(
        f"Storage report: {loc.name}",
        f"{site_name} - {loc.kind} '{loc.key}'. Period {local_time(r.start, off)} to {local_time(r.end, off)}"
        f" ({zone_name(off)}). Range {rules.temperature_low_celsius:g}-{rules.temperature_high_celsius:g} °C;"
        f" light threshold {rules.light_lux:g} lx.",
    )
    temperature = [x for x in r.excursions if x.kind != "light"]
    out_of_range = sum(x.episode.seconds for x in temperature)
    longest = max((e.seconds for e in r.openings), default=None)
    pdf.section("Summary")
    pdf.facts(
        [
            ("Mean kinetic temperature (period)", number(r.mean_kinetic_temperature_celsius, 2, "°C")),
            ("Cumulative light dose (period)", number(r.lux_hours, 1, "lux·h")),
            ("Temperature excursions", f"{len(temperature)}, {duration(out_of_range)} out of range in all"),
            (
                "Door openings (light episodes)",
                f"{len(r.openings)}" + ("" if longest is None else f", longest {duration(longest)}"),
            ),
            ("Alerts in the period", str(len(r.alerts))),
            (
                "Time without data",
                ", ".join(f"{k}: {duration(v)}" for k, v in sorted(r.gap_seconds.items())) or "-",
            ),
        ]
    )

    pdf.section("Daily minimum and maximum temperature")
    rows = []
    for d in r.days:
        in_range = (
            "-"
            if d.celsius_min is None or d.celsius_max is None
            else "yes"
            if rules.temperature_low_celsius <= d.celsius_min
            and d.celsius_max <= rules.temperature_high_celsius
            else "NO"
        )
        rows.append(
            [
                _day(d.day),
                number(d.celsius_min, 1),
                number(d.celsius_max, 1),
                in_range,
                number(d.lux_max, 0),
                number(d.lux_hours, 1),
                str(d.door_openings),
                str(d.temperature_readings),
            ]
        )
    pdf.grid(
        ["Day", "Min °C", "Max °C", "In range", "Max lux", "lux·h", "Door openings", "°C readings"],
        rows,
        (30, 18, 18, 18, 20, 20, 24, 22),
        "No days in the period.",
    )

    pdf.section("Excursions")
    pdf.paragraph(
        "Every run of temperature readings outside the range, however short, and every light episode that"
        f" lasted at least {rules.light_hold_seconds:g} s. Each reading counts for one polling interval."
    )
    pdf.grid(
        ["Start", "End", "Duration", "Kind", "Extreme", "Bound"],
        [
            [
                local_time(x.episode.start, off, seconds=True),
                local_time(x.episode.end, off, seconds=True),
                duration(x.episode.seconds),
                _KIND[x.kind],
                number(x.episode.peak, 1, x.unit),
                f"{x.bound:g} {x.unit}",
            ]
            for x in r.excursions
        ],
        (36, 36, 22, 24, 28, 24),
        "No excursions in the period.",
    )

    pdf.section("Door openings")
    shown = r.openings[-MAX_OPENING_ROWS:]
    if len(r.openings) > len(shown):
        pdf.paragraph(f"The latest {len(shown)} of {len(r.openings)} are listed.")
    pdf.grid(
        ["Opened", "Duration", "Peak lux"],
        [
            [local_time(e.start, off, seconds=True), duration(e.seconds), number(e.peak, 0, "lx")]
            for e in shown
        ],
        (50, 30, 30),
        "No light episodes in the period.",
    )

    pdf.section("Alerts and acknowledgements")
    pdf.grid(
        ["Fired", "Severity", "Rule", "Message", "State", "Acknowledgement", "Resolved"],
        [
            [
                local_time(h.alert.fired_ts, off),
                h.alert.severity,
                h.alert.rule,
                h.alert.message,
                h.alert.state,
                "-"
                if h.alert.ack_by is None
                else f"{h.alert.ack_by}, {local_time(h.alert.ack_ts, off)}: {h.alert.ack_comment}",
                local_time(h.alert.ended_ts, off),
            ]
            for h in r.alerts
        ],
        (21, 15, 27, 50, 18, 40, 19),
        "No alerts in the period.",
    )
    pdf.paragraph(
        f"\nMean kinetic temperature by the USP formula with dH/R = 10,000 K. Times are {zone_name(off)}."
    )
    return bytes(pdf.output())
