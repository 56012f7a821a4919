"""Settings: a bad file fails at start naming the file, the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.errors import ConfigError
from tests.conftest import simulated_raw

BASE = """
[[locations]]
key = "fridge-1"
name = "Fridge"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[[sensors]]\nkey="s"\nlocation="fridge-1"\nquantity="light"\ninterval_seconds=0\n',
            "sensors[0].interval_seconds: Input should be greater than or equal to 0.0125",
        ),
        (
            '[[sensors]]\nkey="s"\nlocation="nowhere"\nquantity="light"\n',
            "sensors[0].location: unknown location",
        ),
        ('[[sensors]]\nkey="s"\nlocation="fridge-1"\nquantity="humidity"\n', "sensors[0].quantity"),
        (
            '[[vials]]\nkey="v"\ndrug="aspirin"\nform="x"\nlot="1"\nlocation="fridge-1"\npackaging="in-carton"\n',
            "vials[0]: unknown drug 'aspirin'",
        ),
        (
            '[[vials]]\nkey="v"\ndrug="mecobalamin"\nform="dilute-infusion"\nlot="1"\nlocation="fridge-1"\n'
            'packaging="foil"\n',
            "vials[0]: unknown packaging state 'foil'",
        ),
        ("[api]\nport = 99999\n", "api.port"),
        ("[bridge]\nbatch_seconds = 2\ncolour = 'red'\n", "bridge.colour: Extra inputs are not permitted"),
        ("[rules]\ntemperature_high_celsius = nan\n", "rules.temperature_high_celsius"),
        ("[rules]\npotency_critical_percent = inf\n", "rules.potency_critical_percent"),
        ("[rules]\ntemperature_cumulative_seconds = 90000\n", "never fire"),
        ("[rules]\ntemperature_high_celsius = 1000\n", "outside what any probe can report"),
        (
            '[[sensors]]\nkey="s"\nlocation="fridge-1"\nquantity="light"\ninterval_seconds=10\n'
            "max_gap_seconds=5\n",
            "max_gap_seconds 5 is shorter than the sensor's interval 10",
        ),
        ("[simulation]\nopening_hours = [20.0, 8.0]\n", "opening_hours"),
        ("[simulation]\nutc_offset_hours = 99\n", "simulation.utc_offset_hours"),
        (
            '[[simulation.scenarios]]\nkind="light-stuck-on"\nstart_after_seconds=0\nduration_seconds=60\n'
            "lux=1e12\n",
            "simulation.scenarios[0].lux",
        ),
        ('[[bridge.serial]]\nurl="/dev/ttyACM0"\ndevice_id="Board-1"\n', "bridge.serial[0].device_id"),
        (
            '[[bridge.serial]]\nurl="/dev/ttyACM0"\n[[bridge.serial]]\nurl="/dev/ttyACM0"\n',
            "serial[1].url: '/dev/ttyACM0' is already a serial source",
        ),
    ],
    ids=[
        "zero-interval",
        "unknown-location",
        "unknown-quantity",
        "unknown-drug",
        "unknown-packaging",
        "port-out-of-range",
        "unknown-key",
        "nan-threshold",
        "infinite-threshold",
        "cumulative-longer-than-its-window",
        "threshold-no-probe-reaches",
        "gap-shorter-than-the-interval",
        "opening-hours-inverted",
        "no-such-time-zone",
        "scenario-beyond-any-sensor",
        "device-id-never-matches",
        "one-port-twice",
    ],
)
def test_bad_setting_names_file_key_and_reason(tmp_path: Path, extra: str, expected: str) -> None:
    """Each bad value is reported with the file name, the offending key and why."""
    path = write(tmp_path, BASE + extra)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_unparseable_toml_names_the_file_and_line(tmp_path: Path) -> None:
    """A syntax error says which file and where."""
    path = write(tmp_path, 'site_name = "a"\nlocations = [1,,]\n')
    with pytest.raises(ConfigError, match=r"site\.toml: not valid TOML: .*line"):
        load_settings(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A path that does not exist fails with the path in the message."""
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_settings(tmp_path / "absent.toml")


def test_shipped_simulated_site_is_valid() -> None:
    """The default simulated config: one fridge, a lux and a temperature sensor, vials in several states."""
    from monitor.config import parse_settings

    s = parse_settings(simulated_raw(), "simulated.toml")
    assert [x.quantity for x in s.sensors] == ["light", "temperature"]
    assert len({v.packaging for v in s.vials}) >= 3
    assert (s.sensors[0].interval, s.sensors[1].interval) == (1.0, 10.0)


def test_deploy_example_config_is_valid() -> None:
    """The example in deploy/ (a TSL2591 and a DS18B20 probe) loads and names known drivers."""
    from firmware_bridge.sensors import check_drivers

    root = Path(__file__).resolve().parents[2]
    settings = load_settings(root / "deploy" / "config.example.toml")
    check_drivers(settings, simulate=False)
    assert [s.driver for s in settings.sensors] == ["tsl2591", "ds18b20"]


def test_a_non_finite_drug_constant_is_refused(tmp_path: Path) -> None:
    """The drug profiles are settings too: a NaN rate constant names the profiles file."""
    shipped = (Path(__file__).resolve().parents[2] / "monitor" / "data" / "drug_profiles.toml").read_text()
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(shipped.replace("value = 1.456e-3", "value = nan", 1), encoding="utf-8")
    path = write(tmp_path, f'drug_profiles_file = "{profiles}"\n' + BASE)
    with pytest.raises(ConfigError, match="finite"):
        load_settings(path)
