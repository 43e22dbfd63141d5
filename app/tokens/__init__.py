"""The OAuth2 token endpoints (RFC 6749 password and refresh grants, RFC 7009 revocation)."""
