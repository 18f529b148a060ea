"""The merchant key: from the environment or an encrypted keystore, never shown — not in reprs,
errors, settings messages, command output or process arguments (the captured output is grepped)."""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import pytest

from cli.main import main
from greenpoints.anvil import Anvil
from greenpoints.errors import ConfigError
from merchant.errors import SigningKeyError
from merchant.keys import key_from_hex, load_key, write_keystore
from merchant.settings import load_merchant_settings
from tests.conftest import PoolEnv
from tests.merchant.conftest import SOFA_STORE, anvil_key
from tests.merchant.helpers import assert_no_key
from tests.resilience.conftest import greenpoints_command

KEY = anvil_key(SOFA_STORE)


def test_a_key_shows_only_its_address() -> None:
    key = key_from_hex(KEY)
    assert repr(key) == str(key) == f"MerchantKey(address={key.address})"
    assert_no_key(f"{key!r} {key} {key!s} {[key]} { ({'k': key}) }", KEY)
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        vars(key)
    assert not hasattr(key, "key") and not hasattr(key, "private_key")


@pytest.mark.parametrize("bad", [KEY[:-1], KEY[:-1] + "g", KEY + "00", "0x" + "0" * 64])
def test_bad_keys_are_refused_without_showing_them(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SigningKeyError) as caught:
        key_from_hex(bad)
    assert_no_key(str(caught.value), bad)
    monkeypatch.setenv("GREENPOINTS_MERCHANT_KEY", bad)
    if bad != "0x" + "0" * 64:  # well-formed hex: refused later, when it is used (above)
        with pytest.raises(ConfigError, match="<hidden>") as refused:
            load_merchant_settings(env_file=None)
        assert_no_key(str(refused.value), bad)


def test_a_keystore_round_trip_and_its_refusals(tmp_path: Path) -> None:
    path = write_keystore(KEY, "correct horse", tmp_path / "merchant.json", iterations=1000)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert_no_key(path.read_text(), KEY)
    assert load_key(key_hex=None, keystore=path, password="correct horse").address == key_from_hex(KEY).address
    asked: list[str] = []
    key = load_key(
        key_hex=None, keystore=path, password=None, prompt=lambda text: asked.append(text) or "correct horse"
    )
    assert key.address == key_from_hex(KEY).address and asked == [f"password for keystore {path}: "]
    with pytest.raises(SigningKeyError, match="wrong password"):
        load_key(key_hex=None, keystore=path, password="wrong")
    with pytest.raises(SigningKeyError, match="needs a password"):
        load_key(key_hex=None, keystore=path, password=None, prompt=None)
    with pytest.raises(SigningKeyError, match="use one"):
        load_key(key_hex=KEY, keystore=path, password="correct horse")
    with pytest.raises(SigningKeyError, match="no merchant key"):
        load_key(key_hex=None, keystore=None, password=None)
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(SigningKeyError, match="not a valid encrypted key file"):
        load_key(key_hex=None, keystore=tmp_path / "junk.json", password="x")


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*greenpoints_command(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _run_here(
    args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """The command line in this process (fast), with exactly `env`'s GREENPOINTS_* settings."""
    with monkeypatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("GREENPOINTS_")]:
            patch.delenv(name)
        for name, value in env.items():
            if name.startswith("GREENPOINTS_"):
                patch.setenv(name, value)
        try:
            code = main(args)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def test_the_command_line_never_shows_the_key(
    anvil: Anvil, env: PoolEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = env.deployment.save(tmp_path / "deployment.json")
    base = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    base.update(GREENPOINTS_RPC_URL=anvil.url, GREENPOINTS_DEPLOYMENT=str(deployment))
    with_key = {**base, "GREENPOINTS_MERCHANT_KEY": KEY}
    bad_key = {**base, "GREENPOINTS_MERCHANT_KEY": KEY[:-1]}
    keystore = str(tmp_path / "ks.json")  # written by `merchant keystore` (scrypt: slow to open)
    quick = str(write_keystore(KEY, "pw-123456", tmp_path / "quick.json", iterations=1000))
    right_password = {**base, "GREENPOINTS_MERCHANT_KEYSTORE_PASSWORD": "pw-123456"}
    wrong_password = {**base, "GREENPOINTS_MERCHANT_KEYSTORE_PASSWORD": "wrong"}
    checkout = ["merchant", "checkout", "--customer", env.customers[0], "--amount"]
    # Real processes, whose arguments and output are all there is to see.
    outputs = []
    for args, run_env, code in [
        ([*checkout, "12000", "--order", "KEY-1"], with_key, 0),
        (["merchant", "keystore", "--out", keystore], {**with_key, **right_password}, 0),
    ]:
        result = _run(args, run_env, tmp_path)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert KEY not in " ".join(result.args)
        outputs.append(result.stdout + result.stderr)
    # The rest in this process: the same code, faster.
    for args, run_env, code in [
        ([*checkout, "12000", "--order", "KEY-1"], with_key, 0),
        ([*checkout, "1", "--order", "KEY-1"], with_key, 4),
        (["merchant", "quote", "--amount", "12000", "--json"], with_key, 0),
        (["merchant", "status", "--order", "KEY-1", "-v"], with_key, 2),
        ([*checkout, "1", "--order", "K"], bad_key, 1),
        ([*checkout, "12000", "--order", "KEY-2", "--keystore", keystore], right_password, 0),
        ([*checkout, "12000", "--order", "KEY-3", "--keystore", quick], right_password, 0),
        ([*checkout, "12000", "--order", "KEY-4", "--keystore", quick], wrong_password, 1),
    ]:
        got, output = _run_here(args, run_env, monkeypatch, capsys)
        assert got == code, (args, output)
        outputs.append(output)
    assert "was already checked out (nothing sent)" in outputs[2]
    assert "wrong password" in outputs[-1]
    for output in outputs:
        assert_no_key(output, KEY)
    # The key goes in through the environment only: no option takes it.
    _, help_text = _run_here(["merchant", "checkout", "--help"], base, monkeypatch, capsys)
    assert "--keystore" in help_text and "--key " not in help_text and "--private-key" not in help_text
