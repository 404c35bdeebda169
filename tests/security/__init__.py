"""Tokens, the authorization matrix, enumeration and refresh races."""
