"""`vialguard predict`: the §7 test vectors, the label rule, CSV input, the same numbers as the live model."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hardware.clock import ManualClock
from monitor.exposure import vial_potency
from monitor.model.profiles import Catalog
from monitor.store import vials as vial_store
from tests.monitor.test_lamps import open_site
from tests.monitor.test_uncertainty import feed, site
from vialguard.cli import main

THIN = ["--concentration-mg-ml", "0", "--path-cm", "1", "--lamp", "fluorescent-cool-white"]


def predict(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["predict", *args, "--json"]) == 0, capsys.readouterr().err
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_vector_1_calibration_solution_at_500_lux(capsys: pytest.CaptureFixture[str]) -> None:
    """§7 vector 1: the calibration solution (2 µg/mL in its infusion container) under cool-white
    fluorescent light at 500 lx, 25 °C: the series' first-order fit, 69.5/48.3/23.3 % at 0.5/1/2 h (data
    67.4/48.3/23.5)."""
    args = [
        "--form",
        "dilute-infusion",
        "--packaging",
        "infusion-container",
        "--lamp",
        "fluorescent-cool-white",
    ]
    out = predict(capsys, *args, "--lux", "500", "--hours", "2", "--points", "5")
    by_hour = {p["hours"]: p["potency_percent"]["best"] for p in out["trajectory"]}
    assert by_hour[0.5] == pytest.approx(69.5, abs=0.05)
    assert by_hour[1.0] == pytest.approx(48.3, abs=0.05)
    assert by_hour[2.0] == pytest.approx(23.3, abs=0.05)
    for hours, measured in ((0.5, 67.4), (1.0, 48.3), (2.0, 23.5)):  # V1-V3, within the fit's scatter
        assert by_hour[hours] == pytest.approx(measured, abs=2.5)


def test_thin_limit_is_the_series_rate_over_the_calibration_solutions_absorbed_fraction(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A thin solution (c → 0, F = 1) loses faster than the calibration solution by 1/F of the latter, which
    absorbs 2 % of the light it could (0.983 by the integral; the model review's 0.986 with one ε̄): 69.0 %
    after 0.5 h rather than 69.5. The effective dose is the lux·h times the bag wall's τ (0.88)."""
    out = predict(capsys, *THIN, "--lux", "500", "--hours", "2", "--points", "5")
    by_hour = {p["hours"]: p["potency_percent"]["best"] for p in out["trajectory"]}
    k_series = 1.456e-3  # per lux·h: the V1-V3 fit through the origin (§0)
    thin_k = -math.log(by_hour[2.0] / 100.0) / 1000.0
    assert k_series / thin_k == pytest.approx(0.983, abs=0.002)
    assert by_hour[0.5] == pytest.approx(69.04, abs=0.05)
    assert out["parameters"]["F(A)"]["value"] == 1.0
    tau = out["parameters"]["τ_pkg"]["value"]
    assert tau == pytest.approx(0.879, abs=0.001)  # infusion-bag filter, spectral_model.toml
    assert out["effective_lux_hours"] == pytest.approx(1000.0 * tau, rel=1e-4)


def test_vector_2_ten_times_the_concentration_is_several_times_slower(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """§7 vector 2: an ampoule solution ten times as concentrated takes several times longer to lose 10 %."""
    base = ["--lamp", "fluorescent-cool-white", "--path-cm", "1", "--lux", "500", "--hours", "1"]
    dilute = predict(capsys, *base, "--concentration-mg-ml", "0.5")
    strong = predict(capsys, *base, "--concentration-mg-ml", "5")
    assert strong["hours_to_threshold"]["best"] / dilute["hours_to_threshold"]["best"] > 3


def test_vector_3_dark_and_isothermal_follows_k_ref(capsys: pytest.CaptureFixture[str]) -> None:
    """§7 vector 3: in the dark at T_ref, f = exp(−k_ref·t)."""
    out = predict(capsys, *THIN, "--lux", "0", "--hours", "1000", "--celsius", "25")
    assert out["potency_percent"]["best"] == pytest.approx(100 * math.exp(-1.9e-6 * 1000), abs=1e-4)
    assert out["potency_percent"]["low"] == out["potency_percent"]["best"]


def test_warmth_speeds_the_dark_loss_by_the_arrhenius_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    """§3: at Ea = 83.144 kJ/mol, k(40 °C)/k(25 °C) = 4.99, so the dark time to 90 % shrinks by it."""
    at25 = predict(capsys, *THIN, "--lux", "0", "--hours", "1", "--celsius", "25")
    at40 = predict(capsys, *THIN, "--lux", "0", "--hours", "1", "--celsius", "40")
    assert at25["hours_to_threshold"]["best"] / at40["hours_to_threshold"]["best"] == pytest.approx(
        4.99, abs=0.01
    )


@pytest.mark.parametrize(
    ("form", "best", "earlier_estimate"),
    [
        ("dilute-infusion", 72.4, 72.0),
        # §7's 500 lx·h (one peak ε̄) lies just past the joint band's latest, 490.
        ("methycobal-500ug-ampoule", 210.7, None),
        ("rozebalamin-25mg", 4_040.0, 5_500.0),
    ],
)
def test_lux_hours_to_90_percent_per_form(
    capsys: pytest.CaptureFixture[str], form: str, best: float, earlier_estimate: float | None
) -> None:
    """Lux·h to 90 % in a clear infusion container under cool-white fluorescent light, from the photolysis
    integral: the calibration solution keeps §7's ≈72; the concentrated forms absorb across their whole
    band, not at one peak ε̄, so they are less protected than §7's single-ε̄ F(A) said (Methycobal 500 →
    211, Rozebalamin 16,000-19,000 → 4,040, bare 3,550 in docs/validation.md). The band holds the estimate
    made with a band-averaged ε̄ (the model review: Rozebalamin ≈ 5,500) and §7's for the thin solution."""
    out = predict(
        capsys,
        "--form",
        form,
        "--packaging",
        "infusion-container",
        "--lamp",
        "fluorescent-cool-white",
        "--lux",
        "1000",
        "--hours",
        "1",
        "--celsius",
        "5",
    )
    bounds = out["hours_to_threshold"]
    assert bounds["best"] * 1000 == pytest.approx(best, rel=0.01)
    assert bounds["low"] <= bounds["best"] <= bounds["high"]
    if earlier_estimate is not None:
        assert bounds["low"] * 1000 <= earlier_estimate <= bounds["high"] * 1000


def test_reconstituted_vial_is_limited_by_the_label(capsys: pytest.CaptureFixture[str]) -> None:
    """A reconstituted Rozebalamin vial, window open at 500 lx: the model gives hours (about 7.8: the
    integral's 3,550 lx·h to 90 % bare, behind clear glass), the label 60 minutes; the verdict after half an
    hour counts down to the label, after an hour it is do not use."""
    args = ("--form", "rozebalamin-25mg", "--state", "window-open", "--lux", "500", "--reconstituted")
    half = predict(capsys, *args, "--hours", "0.5")
    assert half["hours_to_threshold"]["best"] > 5
    v = half["verdict"]
    assert (v["verdict"], v["limited_by"], v["basis"]) == ("use", "label", "low bound")
    assert v["hours_left"] == pytest.approx(0.5)
    assert v["time_left"] == "30 min (label limit after reconstitution)"
    hour = predict(capsys, *args, "--hours", "1")["verdict"]
    assert (hour["verdict"], hour["time_left"]) == ("do-not-use", "reached: label limit passed")


def test_verdict_reads_the_low_bound_like_the_live_system(capsys: pytest.CaptureFixture[str]) -> None:
    """A thin solution under an unknown lamp at 500 lx for 2.5 minutes: the best estimate is above the
    warning threshold but the low bound (κ_s up to 1.76) is not, so the verdict is watch, as the live
    system's alerts would have it."""
    out = predict(capsys, "--concentration-mg-ml", "0", "--path-cm", "1", "--lux", "500", "--hours", "0.0417")
    p, v = out["potency_percent"], out["verdict"]
    assert p["low"] < 95.0 <= p["best"]
    assert (v["verdict"], v["basis_percent"]) == ("watch", p["low"])
    assert v["hours_left"] == pytest.approx(out["hours_to_threshold"]["low"] - 0.0417, abs=1e-3)


def test_readings_csv_gives_the_same_as_constant_conditions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV of 500 lx at 25 °C for an hour (ISO times) predicts what --lux 500 --hours 1 does."""
    csv = tmp_path / "day.csv"
    rows = (
        ["time,lux,celsius"]
        + [f"2026-11-25T09:{m:02d}:00Z,500,25" for m in range(60)]
        + ["2026-11-25T10:00:00Z,500,25"]
    )
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    from_csv = predict(capsys, *THIN, "--readings", str(csv))
    constant = predict(capsys, *THIN, "--lux", "500", "--hours", "1")
    assert from_csv["potency_percent"] == constant["potency_percent"]
    for bound in ("best", "low", "high"):
        assert from_csv["hours_to_threshold"][bound] == pytest.approx(constant["hours_to_threshold"][bound])
    assert from_csv["verdict"] == constant["verdict"]


def test_predict_agrees_with_the_live_model(
    tmp_path: Path, catalog: Catalog, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same hour of 500 lx through the engine and through predict gives the same best; predict's band
    is the joint integral's for the form, state and lamp, which lies within the live band (the product of
    the form's rate, κ_s and τ_pkg ranges, each wide enough for every combination) and is sharper."""
    conn, engine = open_site(site(tmp_path), catalog, clock)
    feed(engine, clock.wall(), 0, 3601, 500.0)
    vial = vial_store.by_key(conn, "infusion-0001")
    assert vial is not None
    live = vial_potency(conn, catalog, vial).percent_range
    out = predict(
        capsys,
        "--form",
        "dilute-infusion",
        "--packaging",
        "infusion-container",
        "--lamp",
        "fluorescent-cool-white",
        "--lux",
        "500",
        "--hours",
        "1",
        "--celsius",
        "25",
    )
    offline = out["potency_percent"]
    # Both take the joint rate of the form in its container under the lamp (monitor.model.place_rates).
    assert offline["best"] == pytest.approx(live.best, abs=1e-3)
    assert offline["low"] == pytest.approx(live.low, abs=1e-3)
    assert offline["high"] == pytest.approx(live.high, abs=1e-3)
    form = catalog.form("mecobalamin", "dilute-infusion")
    joint = catalog.light_rate(
        "mecobalamin",
        form,
        catalog.lamp("fluorescent-cool-white"),
        catalog.packaging_state("infusion-container"),
    )
    assert joint is not None
    dark = 1.9e-6  # k_ref over one hour at T_ref
    assert offline["low"] == pytest.approx(100 * math.exp(-joint.high * 500 - dark), abs=1e-3)
    assert offline["high"] == pytest.approx(100 * math.exp(-joint.low * 500), abs=1e-3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--form", "rozebalamin-25mg", "--lux", "5", "--hours", "1"], "--packaging (or --state) is needed"),
        (["--lux", "5", "--hours", "1"], "--form, or both --concentration-mg-ml and --path-cm"),
        ([*THIN, "--lux", "-5", "--hours", "1"], "--lux must not be negative"),
        ([*THIN, "--lux", "5"], "--lux and --hours are needed"),
        (
            ["--form", "rozebalamin-25mg", "--state", "reconstituted", "--lux", "5", "--hours", "1"],
            "unknown packaging state 'reconstituted'",
        ),
        ([*THIN[:4], "--lamp", "sodium", "--lux", "5", "--hours", "1"], "unknown lamp type 'sodium'"),
    ],
    ids=[
        "form-without-packaging",
        "nothing-to-model",
        "negative-lux",
        "no-hours",
        "state-not-packaging",
        "unknown-lamp",
    ],
)
def test_bad_arguments_exit_2_naming_the_problem(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Bad what-if input exits 2 with a message naming the option."""
    assert main(["predict", *args]) == 2
    assert message in capsys.readouterr().err


def test_bad_csv_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed readings file is refused naming the file and the line."""
    csv = tmp_path / "bad.csv"
    csv.write_text("time,lux\n0,100\n60,lots\n", encoding="utf-8")
    assert main(["predict", *THIN, "--readings", str(csv)]) == 2
    assert f"{csv}:3: lux 'lots' is not a number" in capsys.readouterr().err


def test_text_output_in_a_subprocess() -> None:
    """`vialguard predict` prints the trajectory, the time to 90 % and the parameters with provenance."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vialguard",
            "predict",
            "--form",
            "methycobal-500ug-ampoule",
            "--packaging",
            "amber-glass",
            "--lux",
            "500",
            "--hours",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "model time to 90 % from the start:" in done.stdout
    assert "verdict after 4 h:" in done.stdout
    assert "τ_pkg" in done.stdout
    assert "assumed" in done.stdout


def test_activation_energy_range_brackets_the_cold_dark_loss(capsys: pytest.CaptureFixture[str]) -> None:
    """At 5 °C in the dark the Ea range 60-130 kJ/mol widens the bounds; at T_ref it cannot matter."""
    cold = predict(capsys, *THIN, "--lux", "0", "--hours", "10000", "--celsius", "5")
    b = cold["potency_percent"]
    assert b["low"] < b["best"] < b["high"]
    h = cold["hours_to_threshold"]
    assert h["low"] < h["best"] < h["high"]


def test_a_thick_solution_behind_amber_takes_the_joint_rate(
    catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reconstituted Rozebalamin in its (amber) vial under FL2: the time to 90 % is the joint integral's,
    which counts the red tail a thick solution absorbs where amber passes most (about 1.6 times the rate
    of the form's bare rate × τ_pkg, whose τ is weighted for a thin solution), with the joint's range."""
    form = catalog.form("mecobalamin", "rozebalamin-25mg")
    lamp, state = catalog.lamp("fluorescent-cool-white"), catalog.packaging_state("light-protected-vial")
    joint = catalog.light_rate("mecobalamin", form, lamp, state)
    assert joint is not None
    rate = form.light_rate_per_lux_hour
    assert rate is not None
    assert joint.best / (rate.value * state.tau.value) == pytest.approx(1.6, abs=0.1)
    out = predict(
        capsys,
        "--form",
        "rozebalamin-25mg",
        "--packaging",
        "light-protected-vial",
        "--lamp",
        "fluorescent-cool-white",
        "--lux",
        "1000",
        "--hours",
        "1",
    )
    hours = out["hours_to_threshold"]
    needed = math.log(100 / 90)
    for bound, k in (("best", joint.best), ("low", joint.high), ("high", joint.low)):
        assert hours[bound] * 1000 == pytest.approx(needed / k, rel=1e-3)
    assert out["parameters"]["k·κ_s·τ_pkg"]["value"] == pytest.approx(joint.best)
