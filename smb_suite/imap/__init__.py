"""IMAP4rev1 front end: twisted.mail.imap4.IMAP4Server over MailStore (the only package importing twisted).

The daemon calls `server.listen` for `imap` and `imaps` and `server.close_connections` at shutdown.
Extensions: IDLE, NAMESPACE, UNSELECT, UIDPLUS, MOVE, CONDSTORE, ID, ENABLE, LITERAL+, SASL-IR, SPECIAL-USE,
CHILDREN, LIST-EXTENDED, LIST-STATUS, QUOTA, APPENDLIMIT.

Modules: server (protocol: reading commands one at a time, capabilities, IDLE, ID, ENABLE, unsolicited
updates), commands (folders, SELECT/EXAMINE/UNSELECT/CLOSE, STATUS, APPEND), listing (LIST, LSUB), selected
(STORE, COPY, MOVE, EXPUNGE, SEARCH, UID), fetch and content (FETCH: batched, flow-controlled, bodies
streamed), quota, arguments and syntax (argument parsers, literals), folder (a folder's index shared by the
sessions showing it), mailbox (one session's numbering over it), account (IAccount over the store), auth
(twisted.cred checker calling ops.login), errors (core errors to NO/BAD, in one place), search, wildcard (LIST
patterns in linear time) and wire (pure helpers), bridge (asyncio futures to Deferreds). ENVELOPE/BODYSTRUCTURE
and MIME sections live in mail/ (mime, summary). Every command does bounded work on the event loop (issue 11):
nesting, list lengths and pattern sizes are capped (BAD), many responses go out in one write.

twisted traps met here (Twisted 26.10), beyond those in /work/shared/notes/PARTS.md, and what we do:
- CREATE/DELETE/RENAME/SUBSCRIBE call IAccount synchronously and count a Deferred as success; SELECT, STATUS,
  APPEND, COPY answer a missing folder with BAD "Server error" and several NO paths join str with bytes:
  every command but LOGIN/AUTHENTICATE/CAPABILITY/LOGOUT/NAMESPACE/STARTTLS is ours.
- arg_astring splits a quoted string at the first '"' (no \\" or \\\\ escapes: a password with a quote fails),
  and no parser knows {n+} (LITERAL+): arguments.py and syntax.py. A parser gets None, not b"", when a
  command has no arguments.
- lookupCommand decodes the command name as ASCII and raises on other octets ("* BAD Server error").
- __ebDispatch answers every error from an argument parser with BAD "Server error": overridden as
  `_IMAP4Server__ebDispatch` (name mangling) to map errors like the handlers do.
- Pipelined lines wait in a list (`blocked`) while FETCH runs, and the octets of a later command's literal are
  queued as if they were lines: pipelined APPENDs corrupt each other. We pause the transport instead (TCP
  back-pressure) until the command in progress is answered.
- IDLE ends on any line, not only DONE; updates queued as "async" while a command runs must bypass the queue
  in IDLE.
- do_UID accepts only COPY, FETCH, STORE and SEARCH (no UID MOVE, UID EXPUNGE).
- LineReceiver drops the connection on a line over 16 KiB; we answer BAD and skip to the next line.
- After STARTTLS, commands the client pipelined in the clear would run as if sent over TLS (CVE-2011-0411):
  the line buffer is cleared.
- AUTHENTICATE takes no initial response (SASL-IR); timeoutConnection talks to twisted's mailbox API.
- The modified UTF-7 decoder accepts non-canonical names ('&AGE-' is 'a'): a name must re-encode to itself.
- FETCH takes a reactor turn per item and a write per message, never sets \\Seen, answers partials with
  <start.length>, re-serialises headers; BODYSTRUCTURE lower-cases parameters and crashes on a trailing ';';
  FileProducer never closes its file; a MessageSet's `last` can be set once: FETCH is ours (fetch.py).
- A Deferred cannot be awaited in an asyncio coroutine ("Task got bad yield"): storage calls are coroutines
  all the way, wrapped once for twisted (bridge.as_deferred).
- twisted keeps no per-session sequence map and has no expunge event: folder.py and mailbox.py.
"""
