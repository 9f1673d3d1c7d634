"""IMAP4rev1 front end: twisted.mail.imap4.IMAP4Server over MailStore (the only package importing twisted).

The daemon calls `server.listen` for `imap` and `imaps` and `server.close_connections` at shutdown.

Modules: server (listeners, protocol, password policy), commands and fetch (the commands we replace),
account / mailbox / message (IAccount, IMailbox, IMessage adapters over storage), auth (twisted.cred
checker calling ops.login), errors (core errors to NO/BAD, in one place), mime, search and wire (pure
helpers: MIME sections and structures, SEARCH, IMAP encoding), bridge (asyncio futures to Deferreds).

twisted traps met here (Twisted 26.10), beyond those in /work/shared/notes/PARTS.md:
- CREATE/DELETE/RENAME/SUBSCRIBE call IAccount synchronously and count a Deferred as success.
- SELECT/STATUS/APPEND/COPY answer a missing folder with BAD "Server error"; several NO paths join str with
  bytes and raise (APPEND's "[TRYCREATE]", COPY's "No such mailbox", SELECT's \\Noselect, STATUS errors).
- FETCH never sets \\Seen; partial fetches answer `<start.length>` and ignore the range for BODY[];
  header sections are re-serialised (non-ASCII raises); BODYSTRUCTURE lower-cases parameter values and
  crashes on a trailing ';'; FileProducer never closes the file it streams.
- A MessageSet's `last` can be set once, so fetching the same set twice raises; `wildcardToRegexp`
  ignores case in every folder name; search keys cannot carry literals.
"""
