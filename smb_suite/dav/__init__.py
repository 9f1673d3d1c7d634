"""Contacts, calendars, tasks (CardDAV RFC 6352, CalDAV RFC 4791, through Radicale) and a document space
(WebDAV RFC 4918, through wsgidav) for each business, mounted by web/dav.py.

Contract: dav sits beside sites/ and delivery/ below ops/; it imports the core (quota, storage/paths), config and
the base modules, never ops/ or a front end. Every folder it opens is named after internal ids (layout.py);
logins happen in the front end before a request reaches it, so these libraries only ever see a verified
`DavUser` in the ASGI scope, never a password.

Outside DAV requests: scheduling.py reads and changes one event by UID (for invitations, ops/invitations.py) and
replies.py applies attendees' answers mailed to an organiser (a delivery listener); both under Radicale's lock.
"""
