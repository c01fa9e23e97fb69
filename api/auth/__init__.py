"""Authentication and authorisation: passwords, tokens, principals, the permission check."""
