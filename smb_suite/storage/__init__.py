"""Mail storage: Maildir files on disk, an index of UIDs and flags in the database, change notifications."""
