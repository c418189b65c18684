"""API tokens, roles and namespace scopes."""

from hyper_registry.auth.tokens import Principal, Role, TokenInfo, TokenService

__all__ = ["Principal", "Role", "TokenInfo", "TokenService"]
