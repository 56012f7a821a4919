"""Webhook secrets: out of the main configuration, in a file only its owner may read, errors that name
the file and the key and never echo a secret."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from monitor.config import parse_settings
from monitor.errors import ConfigError
from monitor.webhook_secrets import load_webhook_secrets
from tests.conftest import simulated_raw

URL = "https://alarms.example/vialguard"
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("hook", "expected"),
    [
        (
            {"url": "https://vialguard:hunter2-hunter2@alarms.example/hook"},
            "site.toml: webhooks[0]: url: user and password go in the secrets_file",
        ),
        (
            {"url": URL, "secret": "hunter2-hunter2-hunter2"},
            "site.toml: webhooks[0]: secret: signing secrets go in the secrets_file",
        ),
    ],
    ids=["credentials-in-url", "secret-in-config"],
)
def test_the_main_configuration_refuses_secrets(hook: dict[str, str], expected: str) -> None:
    """A password in a webhook URL or a signing secret in the main file is refused, naming where it goes,
    without repeating it."""
    with pytest.raises(ConfigError) as raised:
        parse_settings({**simulated_raw(), "webhooks": [hook]}, "site.toml")
    assert str(raised.value).startswith(expected)
    assert "hunter2" not in str(raised.value)


def test_a_relative_secrets_file_is_beside_the_configuration(tmp_path: Path) -> None:
    """``secrets_file`` is read relative to the configuration file, like ``drug_profiles_file``."""
    config = tmp_path / "site.toml"
    config.write_text("", encoding="utf-8")
    raw = {**simulated_raw(), "secrets_file": "secrets.toml", "webhooks": [{"url": URL}]}
    assert parse_settings(raw, str(config)).secrets_file == tmp_path / "secrets.toml"


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660], ids=oct)
def test_a_secrets_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    """Readable (or writable) by its group or by anyone: refused, saying how to fix it."""
    path = _write(tmp_path / "secrets.toml", f'[webhooks."{URL}"]\nsigning_secret = "{SECRET}"\n', mode)
    with pytest.raises(ConfigError, match=rf"{path}: mode .*: others than its owner may read .* chmod 600"):
        load_webhook_secrets(path, [URL])


def test_a_good_secrets_file_gives_the_signing_secret_and_basic_auth(tmp_path: Path) -> None:
    """Mode 0600, a known URL: its signing secret as written, its credentials as an Authorization value."""
    text = f'[webhooks."{URL}"]\nsigning_secret = "{SECRET}"\nusername = "vg"\npassword = "pw"\n'
    (secrets,) = load_webhook_secrets(_write(tmp_path / "s.toml", text), [URL]).values()
    assert secrets.signing_secret == SECRET
    assert secrets.basic_auth == "Basic " + base64.b64encode(b"vg:pw").decode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            f'[webhooks."{URL}/typo"]\nsigning_secret = "{SECRET}"\n',
            f'webhooks."{URL}/typo": no [[webhooks]]',
        ),
        (f'[webhooks."{URL}"]\nsigning_secret = "hunter2-hunter2-hunter2"\n', 'must start with "whsec_"'),
        (f'[webhooks."{URL}"]\nsigning_secret = "whsec_hunter2!"\n', "followed by valid base64"),
        (f'[webhooks."{URL}"]\nsigning_secret = "whsec_aHVudGVyMg=="\n', "decodes to 7 bytes"),
        (f'[webhooks."{URL}"]\nusername = "vg"\n', "username and password go together"),
        (f'[webhooks."{URL}"]\nusername = "v:g"\npassword = "hunter2"\n', "cannot contain ':'"),
        (f'[webhooks."{URL}"]\nusername = "vg"\npassword = "hunter2\\n"\n', "control character"),
        (f'[webhooks."{URL}"]\n', "empty: give signing_secret"),
        (f'[webhooks."{URL}"]\nsecret = "hunter2"\n', "Extra inputs are not permitted"),
        ('[tokens]\nadmin = "hunter2"\n', "tokens: unknown table"),
        ("webhooks = 1\n", 'expected tables [webhooks."URL"]'),
        ('[webhooks."x"\n', "not valid TOML"),
    ],
    ids=[
        "unknown-url",
        "not-whsec",
        "not-base64",
        "key-too-short",
        "user-without-password",
        "colon-in-user",
        "control-character",
        "empty-entry",
        "unknown-key",
        "unknown-table",
        "not-a-table",
        "bad-toml",
    ],
)
def test_a_bad_secrets_file_names_the_file_the_key_and_the_reason(
    tmp_path: Path, body: str, expected: str
) -> None:
    """Each mistake is one message naming the file and what to fix, never the secret itself."""
    path = _write(tmp_path / "secrets.toml", body)
    with pytest.raises(ConfigError) as raised:
        load_webhook_secrets(path, [URL])
    assert str(raised.value).startswith(f"{path}: ")
    assert expected in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_a_missing_secrets_file_is_named(tmp_path: Path) -> None:
    """A secrets file that is not there: the path and the reason."""
    with pytest.raises(ConfigError, match="cannot read the secrets file: No such file"):
        load_webhook_secrets(tmp_path / "absent.toml", [URL])
