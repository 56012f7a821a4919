"""The fleet page, rendered on the server: every site and location, worst first.

One row per location of every site: the worst verdict of the vials there (do not use, then watch, then
use), how many vials hold each verdict and how many central cannot judge, and whether the site is online.
The words and colours are the verdict's own (:mod:`monitor.model.verdict`); the page computes nothing
of its own (:mod:`fleet.central.fleet_view` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from fleet.central.fleet_view import FleetVial, SiteFacts
from monitor.model.verdict import COLOURS, LABELS, VERDICTS, Verdict

# The same palette and contrast as the site's dashboard (api/static/dashboard.css).
_STYLE = """
:root { --ink: #15191e; --muted: #4a5563; --paper: #f4f6f8; --line: #c9d1da;
        --green: #176b32; --amber: #f2b600; --red: #b3261e; }
body { margin: 0; font: 16px/1.45 system-ui, "DejaVu Sans", sans-serif; color: var(--ink);
       background: var(--paper); }
header { padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 1.4rem; }
main { padding: 12px 20px 24px; max-width: 1400px; margin: 0 auto; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); }
.status { display: inline-block; font-weight: 700; padding: 2px 10px; border-radius: 12px; }
.status-green { background: var(--green); color: #fff; }
.status-amber { background: var(--amber); color: #1a1400; }
.status-red { background: var(--red); color: #fff; }
.offline { font-weight: 600; padding: 2px 10px; border-radius: 12px; background: #fde2df; color: var(--red); }
.quiet { color: var(--muted); }
"""


@dataclass
class _Row:
    site: str
    key: str
    name: str
    counts: dict[Verdict, int] = field(default_factory=dict)
    unjudged: int = 0

    @property
    def worst(self) -> Verdict | None:
        return max(self.counts, key=VERDICTS.index, default=None)

    def rank(self) -> tuple[int, str, str]:
        """Worst first: do not use, watch, use, then locations with no verdict at all."""
        worst = self.worst
        return (1 if worst is None else -VERDICTS.index(worst), self.site, self.key)


def rows(locations: Sequence[tuple[str, str, str]], vials: Sequence[FleetVial]) -> list[_Row]:
    """Per location of every site, its vials' verdicts; worst first."""
    by_place = {(s, k): _Row(s, k, n) for s, k, n in locations}
    for v in vials:
        row = by_place.get((v.site, v.location or ""))
        if row is None:
            continue  # a vial central cannot place: listed by the API with its reason
        if v.verdict is None:
            row.unjudged += 1
        else:
            row.counts[v.verdict.verdict] = row.counts.get(v.verdict.verdict, 0) + 1
    return sorted(by_place.values(), key=_Row.rank)


def _badge(verdict: Verdict | None) -> str:
    if verdict is None:
        return '<span class="quiet">no verdict</span>'
    return f'<span class="status status-{COLOURS[verdict]}">{escape(LABELS[verdict])}</span>'


_OFFLINE = ' <span class="offline">offline</span>'
_NO_VIALS = '<span class="quiet">no vials</span>'


def render(
    facts: Mapping[str, SiteFacts], locations: Sequence[tuple[str, str, str]], vials: Sequence[FleetVial]
) -> str:
    unplaced = [v for v in vials if v.location is None]
    body = []
    for r in rows(locations, vials):
        online = facts[r.site].online if r.site in facts else False
        counts = ", ".join(
            f"{r.counts[v]} {escape(LABELS[v].lower())}" for v in reversed(VERDICTS) if v in r.counts
        )
        if r.unjudged:
            counts += f"{', ' if counts else ''}{r.unjudged} not judged at central"
        body.append(
            "<tr>"
            f"<td>{_badge(r.worst)}</td>"
            f"<td>{escape(r.site)}{'' if online else _OFFLINE}</td>"
            f'<td>{escape(r.name)} <span class="quiet">{escape(r.key)}</span></td>'
            f"<td>{counts or _NO_VIALS}</td>"
            "</tr>"
        )
    sites_without = [s for s in facts if not any(site == s for site, _, _ in locations)]
    extra = "".join(
        f"<li>{escape(s)}{'' if facts[s].online else _OFFLINE}: no configuration received yet</li>"
        for s in sites_without
    )
    notes = (
        f'<p class="quiet">{len(unplaced)} vials central gives no verdict for (see /api/v1/fleet/vials)</p>'
        if unplaced
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>vialguard fleet</title><style>{_STYLE}</style></head><body>"
        f'<header><h1>vialguard fleet</h1><p class="quiet">{len(facts)} sites, worst first</p></header>'
        "<main><table><thead><tr><th>Verdict</th><th>Site</th><th>Location</th><th>Vials</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        f"{f'<ul>{extra}</ul>' if extra else ''}{notes}</main></body></html>"
    )
