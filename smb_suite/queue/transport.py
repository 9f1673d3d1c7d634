"""One outbound SMTP connection (aiosmtplib) and its transactions, each reply mapped to an Outcome per recipient.

Replies: 2xx sent, 4xx temporary, 5xx permanent (RFC 5321 4.2.1). A broken connection, a timeout or a refused
connection is temporary for every recipient of the transaction.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from smb_suite.errors import TemporaryFailure
from smb_suite.queue.routes import Hop, Security
from smb_suite.queue.spool import Kind, Outcome, Recipient


@dataclass(frozen=True, slots=True)
class Settings:
    helo: str  # our host name in EHLO
    connect_timeout: float
    command_timeout: float
    tls: ssl.SSLContext  # made once: loading the CA bundle per connection would stall the loop


def settings(helo: str, connect_timeout: float, command_timeout: float, verify_certificates: bool) -> Settings:
    return Settings(helo, connect_timeout, command_timeout, _tls_context(verify_certificates))


def _reply(code: int, message: str) -> str:
    return f"{code} {' '.join(message.split())}"


def _kind(code: int) -> Kind:
    if 200 <= code < 300:
        return Kind.SENT
    return Kind.PERMANENT if 500 <= code < 600 else Kind.TEMPORARY


def _tls_context(verify: bool) -> ssl.SSLContext:
    if verify:
        return ssl.create_default_context()
    # Opportunistic TLS between MTAs: encryption without authentication (RFC 7435); no CA bundle needed.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Connection:
    """An open, greeted (and possibly TLS-secured and authenticated) session with one hop."""

    def __init__(self, hop: Hop, client: aiosmtplib.SMTP) -> None:
        self.hop = hop
        self._client = client

    @property
    def usable(self) -> bool:
        return bool(self._client.is_connected)

    async def transaction(self, sender: str, recipients: Sequence[Recipient], data: bytes) -> list[Outcome]:
        """MAIL, RCPT for each recipient, DATA; an Outcome for every recipient."""
        name = self.hop.name
        try:
            try:
                await self._client.mail(sender)
            except aiosmtplib.SMTPSenderRefused as refused:
                await self._reset()
                reply = _reply(refused.code, refused.message)
                return [Outcome(r.id, _kind(refused.code), reply, name) for r in recipients]
            outcomes: dict[int, Outcome] = {}
            accepted: list[Recipient] = []
            for recipient in recipients:
                try:
                    await self._client.rcpt(recipient.address)
                    accepted.append(recipient)
                except aiosmtplib.SMTPRecipientRefused as refused:
                    outcomes[recipient.id] = Outcome(
                        recipient.id, _kind(refused.code), _reply(refused.code, refused.message), name
                    )
            if not accepted:
                await self._reset()
                return [outcomes[r.id] for r in recipients]
            try:
                response = await self._client.data(data)
                done = Outcome(0, Kind.SENT, _reply(response.code, response.message), name)
            except aiosmtplib.SMTPDataError as refused:
                done = Outcome(0, _kind(refused.code), _reply(refused.code, refused.message), name)
                await self._reset()
            for recipient in accepted:
                outcomes[recipient.id] = Outcome(recipient.id, done.kind, done.reply, name)
            return [outcomes[r.id] for r in recipients]
        except (aiosmtplib.SMTPException, OSError) as exc:
            self.close()
            reply = f"connection to {name} lost: {exc}"
            return [Outcome(r.id, Kind.TEMPORARY, reply) for r in recipients]

    async def _reset(self) -> None:
        try:
            await self._client.rset()
        except (aiosmtplib.SMTPException, OSError):
            self.close()

    async def quit(self) -> None:
        if self._client.is_connected:
            try:
                await self._client.quit()
            except (aiosmtplib.SMTPException, OSError):
                self.close()

    def close(self) -> None:
        self._client.close()


async def connect(hops: Sequence[Hop], settings: Settings) -> Connection:
    """Connect to the first hop that answers with a greeting; raise TemporaryFailure naming every failure."""
    problems = []
    for hop in hops:
        client = aiosmtplib.SMTP(
            hostname=hop.host,
            port=hop.port,
            local_hostname=settings.helo,
            timeout=settings.command_timeout,
            use_tls=hop.security is Security.IMPLICIT,
            start_tls={Security.OPPORTUNISTIC: None, Security.STARTTLS: True}.get(hop.security, False),
            tls_context=settings.tls,
        )
        try:
            await client.connect(timeout=settings.connect_timeout)
            if hop.username:
                await client.login(hop.username, hop.password)
            return Connection(hop, client)
        except aiosmtplib.SMTPResponseException as exc:
            client.close()
            if 500 <= exc.code < 600 and hop.username and isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                problems.append(f"{hop.name}: authentication refused: {_reply(exc.code, exc.message)}")
            else:
                problems.append(f"{hop.name}: {_reply(exc.code, exc.message)}")
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            problems.append(f"{hop.name}: {exc.__class__.__name__}: {exc}")
    raise TemporaryFailure("; ".join(problems) or "no server to try")
