"""Credentials, shared by SMTP, IMAP and the web UI: passwords (argon2id), app passwords, web sessions, login
throttling per account and per client address.

Contract: auth is core; it imports storage/db (its tables), mail/ and the base modules, never directory/, ops/,
delivery/ or a front end. Who may log in and what follows a login is ops/login.py's.
"""
