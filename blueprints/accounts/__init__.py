"""Accounts: users with hashed passwords, bearer-token login and an auth middleware."""
