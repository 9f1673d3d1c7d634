"""Websites: theme rendering and atomic publishing of a domain's docroot.

Contract: sites sits beside delivery/ and queue/ below ops/; it imports the core (storage/db, quota), names and
the base modules, never ops/ or a front end. Folders are named after domain ids, never after names.
"""
