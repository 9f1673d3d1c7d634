"""Database schema (SQLAlchemy Core): every table; the engine and its transaction rules are in
storage/database.py, the migrations in smb_suite/storage/migrations.

Portable SQL only, so the same schema runs on SQLite (embedded default) and PostgreSQL (fleets).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("tier", sa.String(50), nullable=False, server_default="starter"),
    sa.Column("usage_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("warned_percent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("partner_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=True, index=True),
    sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false()),
    sqlite_autoincrement=True,  # ids key paths and caches: never reused (issue 11)
)

domains = sa.Table(
    "domains",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(253), nullable=False, unique=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("site_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("catchall", sa.String(320), nullable=True),
    # Ownership proof (ops/verification.py): a domain an owner or partner adds is pending (verified_at NULL)
    # until the TXT record smb-suite-verification=<token> is found on it; the operator's are verified at once.
    sa.Column("verification_token", sa.String(64), nullable=False, server_default=""),
    sa.Column("verified_at", sa.BigInteger, nullable=True),
    sqlite_autoincrement=True,  # ids key paths and caches: never reused (issue 11)
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id"), nullable=False),
    sa.Column("local_part", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False, server_default="user"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("usage_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quota_bytes", sa.BigInteger, nullable=True),
    sa.Column("forward_to", sa.String(320), nullable=True),
    sa.Column("forward_keep_copy", sa.Boolean, nullable=False, server_default=sa.false()),
    # the highest UIDVALIDITY given to one of the user's folders, deleted ones included (RFC 3501 2.3.1.1)
    sa.Column("last_uidvalidity", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("domain_id", "local_part"),
    sqlite_autoincrement=True,  # ids key paths and caches: never reused (issue 11)
)

vacations = sa.Table(
    "vacations",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

# RFC 3834 2: at most one autoreply per sender per interval; rows older than the interval are reused.
vacation_replies = sa.Table(
    "vacation_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("sender", sa.String(320), nullable=False),
    sa.Column("replied_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("user_id", "sender"),
)

aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id"), nullable=False),
    sa.Column("local_part", sa.String(64), nullable=False),
    sa.Column("target", sa.String(320), nullable=False),
    sa.UniqueConstraint("domain_id", "local_part", "target"),
)

mailboxes = sa.Table(
    "mailboxes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("uidnext", sa.BigInteger, nullable=False, server_default="1"),
    # RFC 7162 CONDSTORE: raised by every change to the folder's messages (new, flags, expunge)
    sa.Column("highestmodseq", sa.BigInteger, nullable=False, server_default="1"),
    # RFC 8474 MAILBOXID: random, so it tells nothing about other folders, users or tenants; kept by RENAME
    sa.Column("object_id", sa.String(64), nullable=False, server_default=""),
    # RFC 7162 QRESYNC: removals up to this mod-sequence may have been forgotten (table `expunged` is bounded)
    sa.Column("vanished_floor", sa.BigInteger, nullable=False, server_default="0"),
    # RFC 3501 2.3.2 \Recent: messages from this UID up were shown as recent to no read-write session yet
    sa.Column("recent_from", sa.BigInteger, nullable=False, server_default="1"),
    sa.UniqueConstraint("user_id", "name"),
    sqlite_autoincrement=True,  # ids key paths and caches: never reused (issue 11)
)

# RFC 3501 6.3.6: a subscription is a name; it outlives its folder's DELETE and CREATE makes none
folder_subscriptions = sa.Table(
    "folder_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.UniqueConstraint("user_id", "name"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mailbox_id", sa.Integer, sa.ForeignKey("mailboxes.id"), nullable=False),
    sa.Column("uid", sa.BigInteger, nullable=False),
    sa.Column("filename", sa.String(300), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("flags", sa.String(1000), nullable=False, server_default=""),
    sa.Column("internaldate", sa.BigInteger, nullable=False),
    sa.Column("modseq", sa.BigInteger, nullable=False, server_default="1"),  # RFC 7162, of the last change
    sa.Column("email_id", sa.String(64), nullable=False, server_default=""),  # RFC 8474 EMAILID, kept by COPY
    sa.Column("saved_at", sa.BigInteger, nullable=True),  # RFC 8514 SAVEDATE: stored, copied or moved here
    sa.UniqueConstraint("mailbox_id", "uid"),
    sa.Index("ix_messages_mailbox_modseq", "mailbox_id", "modseq"),
    sqlite_autoincrement=True,  # ids key paths and caches: never reused (issue 11)
)

# RFC 7162 3.2 QRESYNC: UIDs expunged (or moved away) with the mod-sequence of their removal, so a client can
# learn what vanished since it last looked; at most index.KEEP_EXPUNGED per folder (see mailboxes.vanished_floor).
expunged = sa.Table(
    "expunged",
    metadata,
    sa.Column("mailbox_id", sa.Integer, sa.ForeignKey("mailboxes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("uid", sa.BigInteger, primary_key=True),
    sa.Column("modseq", sa.BigInteger, nullable=False),
    sa.Index("ix_expunged_mailbox_modseq", "mailbox_id", "modseq"),
)

# What FETCH and SEARCH need without opening the file (mail/summary.py), one row per message, computed when
# the message is stored. A message without a row (stored before migration 0006) is summarised on demand.
message_meta = sa.Table(
    "message_meta",
    metadata,
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("envelope", sa.LargeBinary, nullable=False),
    sa.Column("bodystructure", sa.LargeBinary, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("sender", sa.Text, nullable=False),
    sa.Column("to", sa.Text, nullable=False),
    sa.Column("cc", sa.Text, nullable=False),
    sa.Column("bcc", sa.Text, nullable=False),
    sa.Column("sent_day", sa.Integer, nullable=True),
    sa.Column("references", sa.Text, nullable=True),  # for THREAD; NULL in rows stored before migration 0016
)

usage_daily = sa.Table(
    "usage_daily",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("usage_bytes", sa.BigInteger, nullable=False),
    sa.Column("limit_bytes", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("tenant_id", "day"),
)

site_settings = sa.Table(
    "site_settings",
    metadata,
    sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id"), primary_key=True),
    sa.Column("theme", sa.String(100), nullable=False),
    sa.Column("colour", sa.String(50), nullable=False, server_default=""),
    sa.Column("lang", sa.String(20), nullable=False, server_default="en"),
    sa.Column("business_name", sa.String(200), nullable=False),
    sa.Column("tagline", sa.String(300), nullable=False, server_default=""),
    sa.Column("description", sa.String(500), nullable=False, server_default=""),
    sa.Column("address", sa.String(500), nullable=False, server_default=""),
    sa.Column("phone", sa.String(50), nullable=False, server_default=""),
    sa.Column("email", sa.String(320), nullable=False, server_default=""),
    sa.Column("opening_hours", sa.String(1000), nullable=False, server_default=""),
    sa.Column("contact_form", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("logo", sa.LargeBinary, nullable=True),
    sa.Column("logo_type", sa.String(50), nullable=False, server_default=""),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("cover_id", sa.Integer, nullable=True),  # a picture of site_media (no FK: deleting it clears this)
)

site_pages = sa.Table(
    "site_pages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id"), nullable=False, index=True),
    sa.Column("slug", sa.String(100), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.String(300), nullable=False, server_default=""),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("layout", sa.String(50), nullable=False, server_default=""),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("in_navigation", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("domain_id", "slug"),
    sa.Column("seo_title", sa.String(200), nullable=False, server_default=""),
)

site_media = sa.Table(
    "site_media",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id"), nullable=False, index=True),
    sa.Column("media_type", sa.String(50), nullable=False),
    sa.Column("alt", sa.String(300), nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("phone", sa.LargeBinary, nullable=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sqlite_autoincrement=True,  # ids name published files: never reused
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("client", sa.String(100), nullable=False, server_default=""),
    sa.Column("tenant_id", sa.Integer, nullable=True, index=True),  # no foreign key: the record outlives it
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("target", sa.String(500), nullable=False, server_default=""),
)

app_passwords = sa.Table(
    "app_passwords",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

# Mailboxes moved in over IMAP (smb_suite/imports/): each run, and each source message already brought in
# (inserted with the message's index row, so a resumed run skips exactly those).
imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("source", sa.String(600), nullable=False),  # "user@host:port", never the password
    sa.Column("state", sa.String(20), nullable=False),  # running, done, failed
    sa.Column("error", sa.Text),
    sa.Column("messages_total", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("bytes_total", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("messages_done", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("bytes_done", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("settings", sa.Text),  # runs started in the admin UI: where from, as JSON (no password)
    sa.Column("secret", sa.LargeBinary),  # their password, sealed (imports/secrets.py), erased at the end
    sa.Column("claimed_until", sa.Float),  # the lease of the daemon process running it
    sqlite_autoincrement=True,
)

imported_messages = sa.Table(
    "imported_messages",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("source", sa.String(600), primary_key=True),
    sa.Column("folder", sa.String(1000), primary_key=True),
    sa.Column("uidvalidity", sa.BigInteger, primary_key=True),
    sa.Column("uid", sa.BigInteger, primary_key=True),
)

# The outbound queue: the message itself is a file in data_dir/queue/ (fsynced before the row commits).
queue_messages = sa.Table(
    "queue_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("queue_id", sa.String(32), nullable=False, unique=True),
    sa.Column("sender", sa.String(320), nullable=False),
    sa.Column("filename", sa.String(300), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("delay_notified", sa.Boolean, nullable=False, server_default=sa.false()),
    # which worker sends it (queue/spool.py claim): "<host>:<pid>", until claimed_until (epoch seconds)
    sa.Column("claimed_by", sa.String(300), nullable=True),
    sa.Column("claimed_until", sa.BigInteger, nullable=False, server_default="0"),
)

queue_recipients = sa.Table(
    "queue_recipients",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("queue_messages.id"), nullable=False, index=True),
    sa.Column("address", sa.String(320), nullable=False),
    sa.Column("domain", sa.String(253), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="queued"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False, index=True),
    sa.Column("last_reply", sa.String(1000), nullable=False, server_default=""),
    sa.Column("remote_mta", sa.String(253), nullable=False, server_default=""),
    sa.Column("reported", sa.Boolean, nullable=False, server_default=sa.false()),
)

# DKIM key pairs of hosted domains (RFC 6376, RFC 8463): signing uses the rows with no retired_at; `smb-suite dns`
# also prints retired ones for the rotation grace period, after which `dkim rotate` deletes them.
dkim_keys = sa.Table(
    "dkim_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("domain_id", sa.Integer, sa.ForeignKey("domains.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("selector", sa.String(63), nullable=False),
    sa.Column("algorithm", sa.String(20), nullable=False),
    sa.Column("private_key", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("retired_at", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("domain_id", "selector"),
)

# Login throttling (auth/throttle.py), shared by every protocol and process: one row per failed login for the
# account key and one for the client-address key; a lock row while a key is locked.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(400), nullable=False, index=True),
    sa.Column("at", sa.BigInteger, nullable=False, index=True),
)

login_locks = sa.Table(
    "login_locks",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("locked_at", sa.BigInteger, nullable=False),
    sa.Column("until", sa.BigInteger, nullable=False),
)

# Hourly allowances per client (auth/ratelimit.py: contact form, sign-up), shared by every worker and node: one
# row per counted event, by "<kind>:<client address>".
rate_events = sa.Table(
    "rate_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(400), nullable=False, index=True),
    sa.Column("at", sa.BigInteger, nullable=False, index=True),
)

# Admin UI sessions (web/sessions.py): the cookie holds a random token, the table only its SHA-256, so a copy
# of the database opens no session; logout and password changes delete rows, which ends them everywhere.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)

# Billing (billing/records.py). One subscription per business, sold by a partner (its business) or the operator
# (NULL). Every change is a row holding the whole subscription from its day on (days are ISO dates, UTC).
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("partner_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=True, index=True),
    sa.Column("start_day", sa.String(10), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

subscription_changes = sa.Table(
    "subscription_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("plan", sa.String(50), nullable=True),
    sa.Column("modules", sa.String(200), nullable=False, server_default=""),  # space-separated names
    sa.Column("extensions", sa.String(500), nullable=False, server_default=""),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
)

# Named users by kind over time: a user without a row is a standard user from the day it was created; a kind
# change closes its row and opens another; removing the user closes its row, which outlives it (no foreign key).
billing_seats = sa.Table(
    "billing_seats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("start_day", sa.String(10), nullable=False),
    sa.Column("end_day", sa.String(10), nullable=True),
)

# Provisioning API (auth/apitokens.py, auth/idempotency.py). A token belongs to a partner's business (NULL: the
# operator); the table keeps only the SHA-256 of its secret. Its calls are counted per minute window here, so every
# worker process shares one count; a creating call's Idempotency-Key keeps the request's hash and its answer.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=True, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(200), nullable=False),  # space-separated
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
    sqlite_autoincrement=True,  # a token id names its audit records: never reused
)

api_calls = sa.Table(
    "api_calls",
    metadata,
    sa.Column("token_id", sa.Integer, primary_key=True),
    sa.Column("minute", sa.BigInteger, primary_key=True),  # epoch seconds // 60
    sa.Column("count", sa.Integer, nullable=False),
)

api_idempotency = sa.Table(
    "api_idempotency",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_id", sa.Integer, nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=True),  # NULL while the first request runs
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.BigInteger, nullable=False, index=True),
    sa.UniqueConstraint("token_id", "key"),
)

# Automatic certificates (certs/records.py): one row per subject ("host", "domain-<id>", the folder of its
# files under data_dir/tls/acme/) with the names it covers, its expiry and the failures of its renewal.
certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("subject", sa.String(40), primary_key=True),
    sa.Column("names", sa.String(2000), nullable=False),  # space-separated
    sa.Column("not_after", sa.BigInteger, nullable=True),
    sa.Column("issued_at", sa.BigInteger, nullable=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(1000), nullable=False, server_default=""),
    sa.Column("next_attempt", sa.BigInteger, nullable=False, server_default="0"),
)

# ACME HTTP-01 answers (RFC 8555 8.3) while an order waits: any worker or node serving port 80 can answer them.
acme_challenges = sa.Table(
    "acme_challenges",
    metadata,
    sa.Column("token", sa.String(200), primary_key=True),
    sa.Column("key_authorization", sa.String(400), nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)

# WebDAV locks (dav/locks.py): in the database, so that every worker process and node knows a lock another
# granted (a Finder or Office client's PUT with its lock token may reach any of them). `lock` is wsgidav's lock
# record as JSON; `root` the locked path inside the business's document space.
dav_locks = sa.Table(
    "dav_locks",
    metadata,
    sa.Column("token", sa.String(100), primary_key=True),
    sa.Column("tenant_id", sa.Integer, nullable=False),
    sa.Column("root", sa.String(2000), nullable=False),
    sa.Column("expire", sa.Float, nullable=False),
    sa.Column("lock", sa.Text, nullable=False),
    sa.Index("ix_dav_locks_tenant_root", "tenant_id", "root"),
)

# White label (directory/brands.py): a partner's brand, shown to its customers instead of the operator's
# ([brand] in the configuration). The platform domain (sign-ups as <name>.<platform_domain>) is set by the operator.
brands = sa.Table(
    "brands",
    metadata,
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("colour", sa.String(7), nullable=False),
    sa.Column("support_email", sa.String(320), nullable=False, server_default=""),
    sa.Column("support_phone", sa.String(40), nullable=False, server_default=""),
    sa.Column("platform_domain", sa.String(253), nullable=True, unique=True),
    sa.Column("logo", sa.LargeBinary, nullable=True),
    sa.Column("logo_type", sa.String(20), nullable=False, server_default=""),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# Password recovery (auth/recovery.py): each user's address outside its business (the confirmed one, and one
# waiting for its confirmation link), and the links mailed: only a token's SHA-256 is kept, with its purpose, what
# it is bound to (the address it confirms; for a reset, a fingerprint of the password hash it may replace) and
# its expiry, and when it was used (a link works once).
recovery_addresses = sa.Table(
    "recovery_addresses",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("address", sa.String(320), nullable=True),
    sa.Column("pending", sa.String(320), nullable=True),
    sa.Column("language", sa.String(8), nullable=False, server_default="en"),
    sa.Column("changed_at", sa.BigInteger, nullable=False),
)

recovery_tokens = sa.Table(
    "recovery_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("purpose", sa.String(10), nullable=False),
    sa.Column("bound", sa.String(320), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
    sa.Column("used_at", sa.BigInteger, nullable=True),
)

# Calendar subscriptions (dav/feeds.py): a user's secret read-only .ics URL for "Team" or its own calendar (Outlook's
# "add calendar from the internet", phones). `token` is 256 random bits (the URL); a new one replaces the old.
calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("calendar", sa.String(20), nullable=False),
    sa.UniqueConstraint("user_id", "calendar", name="uq_calendar_feeds_user_calendar"),
)

# The CRM's "last contact" (storage/correspondents.py): when a business last exchanged mail with an address, upserted
# at delivery and at submission.
correspondents = sa.Table(
    "correspondents",
    metadata,
    sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("last_at", sa.BigInteger, nullable=False),
)

# One row whose stamp changes, by triggers (migration 0029), in the same transaction as any change to mail routing:
# the recipient caches (directory/routing.py) compare it to the stamp they were filled at.
directory_stamp = sa.Table(
    "directory_stamp",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("stamp", sa.BigInteger, nullable=False),
)
