"""Delivery: the only way into a mailbox. `Delivery.accept()` is what SMTP (inbound and submission), the
contact form, the postmaster's notices (quota warnings, account locks), DSNs and vacation replies all call.

What it does, in one place: recipient resolution (the recipient delimiter, aliases, catch-all, forwards,
suspended businesses, full mailboxes: `Delivery.resolve`), one copy per mailbox, quota enforcement (or not, for
the postmaster's notices), the folder (INBOX, or Junk for DMARC quarantine, which is never passed on), remote
copies durably into the outbound queue, and vacation autoreplies (RFC 3834) once the mail is safe.

Contract: delivery imports the core (directory, storage, quota, queue spool, DKIM keys, mail/) and never ops/
or a front end; what it needs from above arrives at composition (services.py), never by patching attributes.

Modules: recipients.py (address -> mailboxes and remote addresses), accept.py (`Delivery`), notices.py (the
postmaster's notices to a business's owners, subscribed to quota warnings at composition). `Delivery.listeners`
(subscribed at composition too) are told of mail stored in INBOXes, in a thread, after the copies are safe: the
answers to event invitations (dav/replies.py).
"""

from smb_suite.delivery.accept import INBOX, JUNK, Accepted, Delivery

__all__ = ["INBOX", "JUNK", "Accepted", "Delivery"]
