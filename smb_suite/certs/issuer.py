"""The ACME protocol (RFC 8555) through the `acme` library that certbot uses: account, order, HTTP-01 answers,
finalisation. Every call blocks on the network or on crypto: the caller runs them in threads.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import requests
from acme import challenges, client, crypto_util, errors, messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from josepy.jwk import JWKRSA

from smb_suite.config import AcmeConfig
from smb_suite.errors import SmbSuiteError

ACCOUNT_KEY_FILE = "account.pem"
NETWORK_SECONDS = 30
ORDER_SECONDS = 120
USER_AGENT = "smb-suite"


class IssuanceFailed(SmbSuiteError):
    """The ACME server refused, a validation failed or the server was unreachable; the text says which, and
    `names` the names whose validation failed (none for other failures)."""

    def __init__(self, text: str, names: frozenset[str] = frozenset()) -> None:
        super().__init__(text)
        self.names = names


def _failed_names(error: Exception) -> frozenset[str]:
    if isinstance(error, errors.ValidationError):
        return frozenset(str(authz.body.identifier.value) for authz in error.failed_authzrs)
    return frozenset()


@dataclass
class Order:
    """An order whose HTTP-01 answers (token -> key authorization) must be published before `finish`."""

    resource: messages.OrderResource
    answers: dict[str, str] = field(default_factory=dict)
    challenges: list[messages.ChallengeBody] = field(default_factory=list)


def _account_key(folder: Path) -> JWKRSA:
    path = folder / ACCOUNT_KEY_FILE
    if not path.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return JWKRSA(key=cast(rsa.RSAPrivateKey, loaded))


def _problem(error: Exception) -> str:
    """A short, readable reason for the domain page and the log."""
    if isinstance(error, errors.ValidationError):
        reasons = [
            f"{authz.body.identifier.value}: {challenge.error.detail or challenge.error.typ}"
            for authz in error.failed_authzrs
            for challenge in authz.body.challenges
            if challenge.error is not None
        ]
        return "validation failed: " + "; ".join(reasons)
    if isinstance(error, messages.Error):
        return f"ACME server: {error.detail or error.typ}"
    if isinstance(error, requests.RequestException):
        return f"ACME server unreachable: {type(error).__name__}"
    if isinstance(error, errors.TimeoutError):
        return "ACME server did not finish the order in time"
    return f"{type(error).__name__}: {error}"


class AcmeClient:
    """One account at one ACME directory; `open` registers it (or finds it again by its key)."""

    def __init__(self, settings: AcmeConfig, folder: Path) -> None:
        self._settings = settings
        self._folder = folder
        self._client: client.ClientV2 | None = None
        self._key: JWKRSA | None = None

    def open(self) -> None:
        try:
            self._key = _account_key(self._folder)
            net = client.ClientNetwork(self._key, user_agent=USER_AGENT, timeout=NETWORK_SECONDS)
            if self._settings.ca_certificates is not None:  # requests takes a CA bundle path as `verify`
                net.verify_ssl = cast(bool, str(self._settings.ca_certificates))
            directory = client.ClientV2.get_directory(self._settings.directory, net)
            self._client = client.ClientV2(directory, net)
            contact = (self._settings.contact,) if self._settings.contact else ()
            registration = messages.NewRegistration(contact=contact, terms_of_service_agreed=True)
            try:
                self._client.new_account(registration)
            except errors.ConflictError as existing:  # this key has an account already: use it
                net.account = messages.RegistrationResource(body=messages.Registration(), uri=existing.location)
        except Exception as error:  # noqa: BLE001 - every failure becomes one readable reason
            raise IssuanceFailed(_problem(error)) from error

    def order(self, names: tuple[str, ...], key_pem: bytes) -> Order:
        """A new order for names, with the HTTP-01 answer of every authorization still pending (RFC 8555 7.4)."""
        acme, key = self._opened()
        try:
            resource = acme.new_order(crypto_util.make_csr(key_pem, list(names)))
            order = Order(resource)
            for authorization in resource.authorizations:
                if authorization.body.status == messages.STATUS_VALID:
                    continue
                for challenge in authorization.body.challenges:
                    if isinstance(challenge.chall, challenges.HTTP01):
                        _response, validation = challenge.response_and_validation(key)
                        order.answers[challenge.chall.encode("token")] = str(validation)
                        order.challenges.append(challenge)
                        break
                else:
                    raise IssuanceFailed(f"{authorization.body.identifier.value}: no http-01 challenge offered")
            return order
        except IssuanceFailed:
            raise
        except Exception as error:  # noqa: BLE001
            raise IssuanceFailed(_problem(error)) from error

    def finish(self, order: Order) -> bytes:
        """Tell the server the answers are up, wait for validation, finalise; the certificate chain (PEM)."""
        acme, key = self._opened()
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_SECONDS)
        try:
            for challenge in order.challenges:
                acme.answer_challenge(challenge, challenge.response(key))
            finished = acme.poll_and_finalize(order.resource, deadline)
        except Exception as error:  # noqa: BLE001
            raise IssuanceFailed(_problem(error), _failed_names(error)) from error
        return str(finished.fullchain_pem).encode()

    def close(self) -> None:
        if self._client is not None:
            self._client.net.session.close()

    def _opened(self) -> tuple[client.ClientV2, JWKRSA]:
        if self._client is None or self._key is None:
            raise IssuanceFailed("ACME account not opened")
        return self._client, self._key
