"""Mail storage: Maildir files on disk, an index of UIDs and flags in the database, change notifications.

Contract: storage imports only the base modules, `mail/` and `quota`; it never imports directory/,
delivery/, ops/ or a front end. Every call names the owner whose store it touches.

Modules: db.py (the schema and the engine; migrations/ holds its alembic migrations), paths.py (file-system
layout by ids), maildir.py (files), index.py (rows), changes.py (who to tell), runner.py (one writer thread,
group commit), legacy.py (older layouts). The store itself is split by operation: folders.py, messages.py,
transfer.py, reconcile.py, composed by store.py's `MailStore`.
"""
