"""Accounts beyond the password: sign-in providers, emailed links, sessions a user sees.

Shared by the REST routes and the GraphQL schema, so both make the same checks.
"""
