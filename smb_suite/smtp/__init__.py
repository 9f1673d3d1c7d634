"""SMTP front end (aiosmtpd): inbound MX and authenticated submission."""
