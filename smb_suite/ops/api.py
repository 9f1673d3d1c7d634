"""Use cases of the provisioning API's tokens: the operator makes, lists and revokes them (cli/); each call of
the API is authenticated (the token's principal: a partner, or the operator) and counted against its limit.

A partner's token acts as that partner (Role.PARTNER of its business), so the core refuses exactly what the
partner's own admin session would be refused; the audit log names the token and the client address."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from smb_suite.auth.apitokens import Token, check_scopes
from smb_suite.directory.model import Principal, Role
from smb_suite.errors import AuthenticationFailed, PermissionDenied, RateLimited
from smb_suite.services import Services

OPERATOR_NAME = "the operator"


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A token as listed: its partner's business name ("" for the operator's)."""

    token: Token
    partner: str


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls the API: its token, the principal it acts as, its scopes."""

    token: Token
    actor: Principal

    def allowed(self, scope: str) -> bool:
        return scope in self.token.scopes


def _require_operator(actor: Principal) -> None:
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator manages API tokens")


def create_token(
    services: Services, actor: Principal, partner: str | None, scopes: Collection[str] = ()
) -> tuple[TokenRow, str]:
    """A token for the partner's business (None: the operator's own): the row and its secret, shown once."""
    _require_operator(actor)
    tenant = None if partner is None else services.tenants.get(actor, partner)
    token, secret = services.api_tokens.create(None if tenant is None else tenant.id, check_scopes(scopes))
    owner = OPERATOR_NAME if tenant is None else tenant.name
    services.audit.record(
        actor, "api.token.create", f"token {token.id} for {owner}: {' '.join(sorted(token.scopes))}", token.tenant_id
    )
    return TokenRow(token, "" if tenant is None else tenant.name), secret


def list_tokens(services: Services, actor: Principal) -> list[TokenRow]:
    _require_operator(actor)
    tokens = services.api_tokens.list()
    names = services.tenants.names([token.tenant_id for token in tokens if token.tenant_id is not None])
    return [TokenRow(token, "" if token.tenant_id is None else names.get(token.tenant_id, "")) for token in tokens]


def revoke_token(services: Services, actor: Principal, token_id: int) -> Token:
    """Refuse the token from now on (its row stays: its id names audit records)."""
    _require_operator(actor)
    token = services.api_tokens.revoke(token_id)
    services.audit.record(actor, "api.token.revoke", f"token {token.id}", token.tenant_id)
    return token


def authenticate(services: Services, secret: str, client: str) -> Caller:
    """The caller a bearer secret names; unknown and revoked tokens get the same refusal."""
    token = services.api_tokens.find(secret)
    if token is None:
        raise AuthenticationFailed("unknown or revoked API token")
    if token.tenant_id is None:
        actor = Principal(Role.OPERATOR, name=f"api token {token.id} ({OPERATOR_NAME})", client=client)
    else:
        partner = services.tenants.names([token.tenant_id]).get(token.tenant_id, "")
        name = f"api token {token.id} ({partner})"
        actor = Principal(Role.PARTNER, tenant_id=token.tenant_id, name=name, client=client)
    return Caller(token, actor)


def count_call(services: Services, caller: Caller) -> None:
    """Count the call against the token's limit per minute (shared by every worker process)."""
    limit = services.config.api.requests_per_minute
    wait = services.api_tokens.count_call(caller.token.id, limit)
    if wait:
        raise RateLimited(f"more than {limit} calls a minute with this token: try again in {wait} s", wait)
