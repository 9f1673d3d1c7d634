"""Passwords and login throttling, shared by SMTP, IMAP and the web UI."""
