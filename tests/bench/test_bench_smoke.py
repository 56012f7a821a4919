"""The benchmarks in smoke mode: every module runs, every figure is well formed, the table renders.

Numbers from a smoke run mean nothing; timings are never asserted. This only keeps ``make bench`` from
rotting between the runs that matter.
"""

from __future__ import annotations

import shutil

import pytest

from bench import harness


@pytest.mark.parametrize("module", harness.modules(), ids=str)
def test_benchmark_module_runs_in_smoke_mode(module: str) -> None:
    """Each bench module produces figures with a positive value, a positive baseline and a target."""
    if module == "bench_api" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (`make bench` installs it)")
    figures = harness.run_all(smoke=True, only=module)
    assert figures, f"{module} produced no figures"
    for fig in figures:
        harness.check(fig)
        assert fig["vialguard"] > 0, fig
        assert fig["baseline"] > 0, fig
    table = harness.render(figures, smoke=True)
    assert "Smoke run" in table
    assert all(fig["name"] in table for fig in figures)


def test_figure_with_a_missing_field_is_refused() -> None:
    """A benchmark that forgets its baseline is an error naming the field, not a silent blank cell."""
    bad = harness.figure("x", 1.0, 1.0, "b", "s", "t", True)
    del bad["baseline"]
    with pytest.raises(TypeError, match="baseline"):
        harness.check(bad)
