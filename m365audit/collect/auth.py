"""Credentials for Microsoft Graph: azure-identity's, or a bearer token from the environment.

Secrets come only from the environment or the azure-identity chain; nothing
here is written to the database, the logs or the reports.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any

import orjson
from azure.core.credentials import AccessToken

from m365audit import environment
from m365audit.errors import UsageError

AUTH_MODES = (
    "token",
    "environment",
    "client-secret",
    "certificate",
    "managed-identity",
    "azure-cli",
    "device-code",
)
TOKEN_ENV = environment.TOKEN.name


class StaticTokenCredential:
    """A bearer token taken from ``M365AUDIT_TOKEN`` (e.g. from `az account get-access-token`).

    ``refresh`` re-reads the variable, so a wrapper script can rotate the
    token between attempts after Graph answers 401.
    """

    def __init__(self, env_var: str = TOKEN_ENV) -> None:
        self._env_var = env_var
        self._token = self._read()

    def _read(self) -> str:
        token = environment.value_of(self._env_var)
        if not token:
            raise UsageError(f"--auth token needs a bearer token in the environment variable {self._env_var}.")
        return token

    def refresh(self) -> None:
        self._token = self._read()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, _jwt_expiry(self._token))

    def close(self) -> None:
        return None


def _jwt_expiry(token: str) -> int:
    """The token's ``exp`` claim when it is a JWT, else an hour from now."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return int(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return int(time.time()) + 3600


def _need(name: str, mode: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise UsageError(f"--auth {mode} needs the environment variable {name}.")
    return value


AUTHORITY_ENV = "AZURE_AUTHORITY_HOST"
PUBLIC_AUTHORITY = "login.microsoftonline.com"


def authority_options(authority: str | None = None) -> dict[str, Any]:
    """Keyword arguments that keep every token request on the chosen authority.

    With an authority other than the public one (``authority`` or AZURE_AUTHORITY_HOST,
    e.g. login.microsoftonline.us or an Azure Stack/ADFS host), MSAL still asks
    login.microsoftonline.com to "discover" it first; that request, and its DNS
    lookup, leave the sovereign or private cloud. The authority is passed explicitly
    and instance discovery is switched off, so nothing goes to the public host.
    """
    host = (authority or os.environ.get(AUTHORITY_ENV, "")).strip()
    if not host:
        return {}
    if "://" not in host:
        host = "https://" + host
    if host.rstrip("/").lower().endswith(PUBLIC_AUTHORITY):
        return {"authority": host}
    return {"authority": host, "disable_instance_discovery": True}


def make_credential(mode: str, *, authority: str | None = None) -> Any:
    """Build the credential for ``mode``; configuration errors are UsageError (exit 2)."""
    if mode == "token":
        return StaticTokenCredential()
    from azure import identity

    kwargs = authority_options(authority)
    if mode == "environment":
        return identity.EnvironmentCredential(**kwargs)
    if mode == "client-secret":
        return identity.ClientSecretCredential(
            _need("AZURE_TENANT_ID", mode), _need("AZURE_CLIENT_ID", mode),
            _need("AZURE_CLIENT_SECRET", mode), **kwargs)
    if mode == "certificate":
        path = _need("AZURE_CLIENT_CERTIFICATE_PATH", mode)
        try:
            return identity.CertificateCredential(
                _need("AZURE_TENANT_ID", mode), _need("AZURE_CLIENT_ID", mode), certificate_path=path,
                password=os.environ.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None, **kwargs)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is not a usable certificate"
            raise UsageError(f"AZURE_CLIENT_CERTIFICATE_PATH {path} cannot be used: {reason}.") from None
    if mode == "managed-identity":
        client_id = os.environ.get("AZURE_CLIENT_ID") or None
        return identity.ManagedIdentityCredential(client_id=client_id)
    if mode == "azure-cli":
        return identity.AzureCliCredential()
    if mode == "device-code":
        return identity.DeviceCodeCredential(
            client_id=_need("AZURE_CLIENT_ID", mode),
            tenant_id=os.environ.get("AZURE_TENANT_ID") or None, **kwargs)
    raise UsageError(f"Unknown --auth mode {mode!r}; use one of: {', '.join(AUTH_MODES)}.")
