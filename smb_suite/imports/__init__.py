"""Moving a business in: each mailbox's mail brought over IMAP from the previous provider (aioimaplib).

folders (the old server's folder names to ours: special-use attributes, well-known names, separators),
remote (the IMAP client: list, examine, inventory, bodies), records (the run's progress and the ledger of
messages brought in), job (one run: plan, copy in batches, resume, stop when the tier is full).
Messages go in through the store like an APPEND (same durability and quota check); the ledger row of each goes
in the transaction that indexes it, so a run resumed after a crash or a kill copies every message exactly once.
Sits beside delivery/ and queue/ (docs/ARCHITECTURE.md): uses the core, never a front end.
"""
