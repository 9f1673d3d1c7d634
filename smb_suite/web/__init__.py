"""The web front end: one starlette app for hosted sites (by Host) and the admin pages (on our own names).

Protocol only: it parses requests, calls ops/directory through the runner, and maps core errors to HTTP in
web/errors.py. The daemon serves the same app on the http and https listeners.

Contract: no SQL in views; never imports smtp/, imap/ or twisted. See docs/ARCHITECTURE.md.
"""
