"""SMTP front end (aiosmtpd): inbound MX and authenticated submission.

Contract: protocol only (parse, reply); it calls ops/ and delivery/ through the services container and maps core
errors to replies with enhanced status codes in one place (replies.py). Never imports imap/, web/ or twisted.
"""
