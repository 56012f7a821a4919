"""The vial report: identity, potency now, the exposure history between events, the potency curve, alerts."""

from __future__ import annotations

from api.reports.layout import Report, local_time, number, zone_name
from monitor.reporting import VialReport


def vial_pdf(r: VialReport, site_name: str, generated_at: float, utc_offset_seconds: float) -> bytes:
    off = utc_offset_seconds
    v, p, verdict, rules = r.vial, r.assessment.potency, r.assessment.verdict, r.rules
    pdf = Report(f"Vial {v.key}: exposure and potency report", generated_at)
    pdf.heading(
        f"Vial {v.key}",
        f"{site_name} - {v.drug}, {v.form}, lot {v.lot}"
        + (f", expiry {v.expiry}" if v.expiry else "")
        + f". Times are {zone_name(off)}.",
    )
    pdf.section("Potency")
    pdf.facts(
        [
            ("Verdict", verdict.label),
            ("Why", f"{verdict.reason} (basis: the {verdict.basis}, as the alerts)"),
            ("Time left", verdict.time_left_text()),
            (
                "Estimated potency",
                f"{p.percent_range.best:.2f} % of label (low {p.percent_range.low:.2f},"
                f" high {p.percent_range.high:.2f})",
            ),
            ("Effective light dose", number(p.effective_lux_hours, 2, "lux·h")),
            ("Initial potency", f"{v.initial_potency_percent:g} %"),
            ("Registered", local_time(v.registered_ts, off)),
            ("Estimate as of", local_time(p.as_of, off)),
            ("Stock status", v.status),
            *_moves(r, off),
        ]
    )
    curve = [(p.ts, p.percent) for p in r.curve]
    if len(curve) >= 2:
        low = min(min(p for _, p in curve), rules.potency_critical_percent) - 2.0
        pdf.ln(2)
        pdf.chart(
            curve,
            y_min=max(low, 0.0),
            y_max=max(100.0, max(p for _, p in curve)),
            lines=[
                (rules.potency_warning_percent, f"{rules.potency_warning_percent:g} %"),
                (rules.potency_critical_percent, f"{rules.potency_critical_percent:g} %"),
            ],
            x_labels=(local_time(curve[0][0], off), local_time(curve[-1][0], off)),
            y_unit=" %",
        )

    pdf.section("Exposure history")
    pdf.paragraph(
        "Each stretch between events: where the vial was, its packaging and that packaging's transmittance"
        " τ (an assumption of the drug profile), the light dose its location measured, and the effective"
        " dose τ × lux·h that the model applies."
    )
    pdf.grid(
        ["From", "To", "Location", "Packaging", "τ", "Location lux·h", "Effective lux·h"],
        [
            [
                local_time(x.start, off),
                local_time(x.end, off),
                x.location.key,
                x.packaging,
                f"{x.tau:g}",
                number(x.location_lux_hours, 2),
                number(x.effective_lux_hours, 2),
            ]
            for x in r.exposure
        ],
        (27, 27, 26, 36, 12, 27, 27),
        "No exposure recorded yet.",
    )

    pdf.section("Events")
    pdf.grid(
        ["When", "Event", "Location", "Packaging", "Detail"],
        [
            [
                local_time(e.ts, off),
                e.kind,
                "-" if loc is None else loc.key,
                e.packaging or "-",
                e.detail or "-",
            ]
            for e, loc in r.events
        ],
        (30, 30, 30, 40, 52),
        "No events.",
    )

    if r.hand_overs:
        pdf.section("Hand-overs between sites")
        pdf.paragraph(
            "The vial's state travels with it in a checksummed document: the receiving site goes on from"
            " the potency and dose the sending site had at the hand-over, with the same model."
        )
        pdf.grid(
            ["When", "Direction", "Site", "Potency then (% of label)", "Effective lux·h then", "Checksum"],
            [
                [
                    local_time(h.ts, off),
                    "handed over to" if h.direction == "out" else "received from",
                    h.peer_site,
                    _range(h.document.get("potency_percent", {}), 2),
                    _range(h.document.get("effective_lux_hours", {}), 2),
                    h.checksum.removeprefix("sha256:")[:12],
                ]
                for h in r.hand_overs
            ],
            (27, 27, 26, 42, 36, 24),
            "No hand-overs.",
        )

    pdf.section("Potency over time")
    step = max(1, len(r.curve) // 12)
    sampled = list(r.curve[::step])
    if r.curve and sampled[-1] is not r.curve[-1]:
        sampled.append(r.curve[-1])
    pdf.grid(
        ["When", "Potency (% of label)", "Effective lux·h"],
        [[local_time(p.ts, off), f"{p.percent:.2f}", number(p.effective_lux_hours, 2)] for p in sampled],
        (45, 45, 45),
        "No estimate yet.",
    )

    pdf.section("Alerts and acknowledgements")
    pdf.grid(
        ["Fired", "Severity", "Message", "Acknowledgement", "Resolved"],
        [
            [
                local_time(h.alert.fired_ts, off),
                h.alert.severity,
                h.alert.message,
                "-"
                if h.alert.ack_by is None
                else f"{h.alert.ack_by}, {local_time(h.alert.ack_ts, off)}: {h.alert.ack_comment}",
                local_time(h.alert.ended_ts, off),
            ]
            for h in r.alerts
        ],
        (26, 18, 62, 52, 24),
        "No alerts for this vial.",
    )
    pdf.paragraph(
        "\nPotency is a model estimate from measured light and temperature (first-order photolysis and"
        " Arrhenius thermal loss); it informs a pharmacist's judgement and does not replace an assay."
    )
    return bytes(pdf.output())


def _range(values: dict[str, float], digits: int) -> str:
    if not values:
        return "-"
    return f"{values['best']:.{digits}f} ({values['low']:.{digits}f}-{values['high']:.{digits}f})"


def _moves(r: VialReport, off: float) -> list[tuple[str, str]]:
    """The potency facts' lines on where the vial came from and where it went."""
    out: list[tuple[str, str]] = []
    arrived = [h for h in r.hand_overs if h.direction == "in"]
    left = [h for h in r.hand_overs if h.direction == "out"]
    if arrived:
        out.append(("Received from", f"site {arrived[-1].peer_site}, {local_time(arrived[-1].ts, off)}"))
    if left and r.vial.status == "handed-over":
        out.append(("Handed over to", f"site {left[-1].peer_site}, {local_time(left[-1].ts, off)}"))
    return out
