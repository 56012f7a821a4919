"""Lifecycle events against the model: any order of entry, any history, the same potency rules hold."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.clock import ManualClock
from monitor import lifecycle
from monitor.batch import Batch, LightReading
from monitor.config import parse_settings
from monitor.exposure import vial_potency
from monitor.model.profiles import load_catalog
from monitor.store import vials as vial_store
from monitor.store.database import transaction
from tests.conftest import simulated_raw
from tests.monitor.test_lamps import open_site

CATALOG = load_catalog()
EVENT = st.one_of(
    st.tuples(st.just("moved"), st.sampled_from(["fridge-1", "cabinet"]), st.none()),
    st.tuples(
        st.just("packaging-changed"),
        st.none(),
        st.sampled_from(["in-carton", "window-open", "syringe", "light-protected-vial"]),
    ),
)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 3599), EVENT), min_size=1, max_size=5, unique_by=lambda e: e[0]),
    st.permutations(range(5)),
    st.lists(st.sampled_from([0.0, 50.0, 500.0, 2000.0]), min_size=6, max_size=6),
)
def test_entry_order_does_not_matter_and_potency_never_rises(
    events: list[tuple[int, tuple[str, str | None, str | None]]],
    order: list[int],
    lux_per_10_min: list[float],
) -> None:
    """Events entered in any order give the same potency; it never rises over time; best lies in bounds."""
    results = []
    for entry_order in (range(len(events)), [i for i in order if i < len(events)]):
        with tempfile.TemporaryDirectory() as tmp:
            raw = simulated_raw()
            raw["locations"][0]["lamp"] = "led-4000k"
            raw["locations"].append({"key": "cabinet", "name": "Cabinet", "worst_case_lux": 0.0})
            s = parse_settings(raw, "simulated.toml", {"db_path": Path(tmp) / "v.db"})
            clock = ManualClock()
            conn, engine = open_site(s, CATALOG, clock)
            t0 = clock.wall()
            for a in range(0, 3600, 600):
                lux = lux_per_10_min[a // 600]
                batch = Batch(light=[LightReading("fridge-1-lux", t0 + i, lux) for i in range(a, a + 600)])
                engine.ingest(batch, t0 + a + 600)
            vial = vial_store.by_key(conn, "roze-0002")
            assert vial is not None
            for i in entry_order:
                at, (kind, location, packaging) = events[i]
                with transaction(conn):
                    lifecycle.record_event(
                        conn, CATALOG, vial, lifecycle.NewEvent(kind, t0 + at, location, packaging), t0 + 3600
                    )
            series = [vial_potency(conn, CATALOG, vial, as_of=t0 + m * 300) for m in range(13)]
            for earlier, later in itertools.pairwise(series):
                assert later.percent <= earlier.percent + 1e-12
                assert later.percent_range.low <= earlier.percent_range.low + 1e-12
            for p in series:
                assert p.percent_range.low <= p.percent <= p.percent_range.high
            results.append(series[-1].percent_range)
            conn.close()
    assert results[0] == results[1]
