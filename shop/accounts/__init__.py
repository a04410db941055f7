"""Accounts: sign-up, e-mail verification, log-in, password reset, roles and the HR roster."""
