"""Issue 19 item 10: with AZURE_AUTHORITY_HOST set, no request or DNS lookup goes to the public login host.

MSAL "discovers" an authority it does not know by asking login.microsoftonline.com; the credentials
now get the authority explicitly with instance discovery off. Checked in a subprocess whose
socket.getaddrinfo records every host name and refuses to resolve it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from m365audit.collect.auth import authority_options, make_credential
from tests.conftest import assert_clean_failure, run_cli

PROBE = """
import socket, sys
looked = []
def refuse(host, *args, **kwargs):
    looked.append(str(host))
    raise socket.gaierror(-2, "resolution refused by the test")
socket.getaddrinfo = refuse
from m365audit.collect.auth import make_credential
try:
    make_credential(sys.argv[1]).get_token("https://graph.microsoft.com/.default")
except Exception:
    pass
print(" ".join(sorted(set(looked))))
"""
SOVEREIGN = "https://login.sovereign.example"
ENV = {"AZURE_AUTHORITY_HOST": SOVEREIGN, "AZURE_TENANT_ID": "11111111-1111-1111-1111-111111111111",
       "AZURE_CLIENT_ID": "22222222-2222-2222-2222-222222222222", "AZURE_CLIENT_SECRET": "not-a-secret"}


@pytest.mark.parametrize("mode", ["client-secret", "environment", "device-code"])
def test_no_lookup_of_the_public_login_host(mode) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")} | ENV
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)
    looked = done.stdout.split()
    assert "login.microsoftonline.com" not in looked, done.stdout + done.stderr
    assert looked == ["login.sovereign.example"], done.stdout + done.stderr


def test_the_authority_is_passed_explicitly(monkeypatch) -> None:
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", SOVEREIGN)
    assert authority_options() == {"authority": SOVEREIGN, "disable_instance_discovery": True}
    assert authority_options("login.microsoftonline.us") == {"authority": "https://login.microsoftonline.us",
                                                            "disable_instance_discovery": True}
    monkeypatch.delenv("AZURE_AUTHORITY_HOST")
    assert authority_options() == {}
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    credential = make_credential("client-secret")
    # azure-identity keeps them as private attributes; nothing public exposes them.
    assert (credential._authority, credential._instance_discovery) == (SOVEREIGN, False)  # noqa: SLF001


def test_an_unreadable_certificate_is_bad_usage(tmp_path) -> None:
    env = {**ENV, "AZURE_CLIENT_CERTIFICATE_PATH": str(tmp_path / "missing.pem")}
    result = run_cli("collect", "--db", str(tmp_path / "c.duckdb"), "--auth", "certificate", env=env)
    assert_clean_failure(result, 2, "AZURE_CLIENT_CERTIFICATE_PATH", "cannot be used")
