"""IMAP4rev1 front end, and IMAP4rev2 for a session that ENABLEs it: twisted.mail.imap4.IMAP4Server over the
mail store (the only package importing twisted).

The daemon calls `server.listen` for `imap` and `imaps` and `server.close_connections` at shutdown.
Extensions: IDLE, NAMESPACE, UNSELECT, UIDPLUS, MOVE, CONDSTORE, ID, ENABLE, LITERAL+, SASL-IR, SPECIAL-USE,
CHILDREN, LIST-EXTENDED, LIST-STATUS, QUOTA, APPENDLIMIT, ESEARCH, COMPRESS=DEFLATE, SORT (with ESORT and
SORT=DISPLAY), THREAD (ORDEREDSUBJECT, REFERENCES), MULTIAPPEND, QRESYNC, STATUS=SIZE, OBJECTID, SAVEDATE, BINARY,
UTF8=ACCEPT. IMAP4rev2 (RFC 9051) is enabled per session (session.enable_imap4rev2): SEARCH answers ESEARCH,
folder names are UTF-8 in NFC (wire.MailboxNames; a name sent in another form is announced with OLDNAME), SELECT
sends LIST and no RECENT or [UNSEEN n], STATUS RECENT is BAD; other sessions keep IMAP4rev1. ENABLE is refused
once a folder was selected (RFC 5161 3.1). Under QRESYNC, a FETCH, STORE or SEARCH that ends while expunges are
held back (RFC 3501 7.4.1) also says a HIGHESTMODSEQ below them (session._hold_resync_point).

Modules: server (the listeners: one session per connection), session (the protocol: reading commands one at a
time, capabilities, login, IDLE, ID, ENABLE, unsolicited updates), commands (folders, SELECT/EXAMINE/
UNSELECT/CLOSE, STATUS, APPEND), qresync (SELECT's parameters; what changed and vanished since a mod-sequence),
listing (LIST, LSUB), selected (STORE, COPY, MOVE, EXPUNGE, SEARCH, UID),
esearch (SEARCH's RETURN options and the ESEARCH response), sort (SORT, THREAD),
fetch and content (FETCH: batched, flow-controlled,
bodies streamed), quota, replies (running a command and answering its tag), errors (core errors to NO/BAD, in one
place), arguments and syntax (argument parsers, literals), folder (a folder's index shared by the sessions
showing it), mailbox (one session's numbering over it), account (IAccount over the store), auth (twisted.cred
checker calling ops.login.login), search, wildcard (LIST patterns in linear time) and wire (pure helpers), bridge
(asyncio futures to Deferreds), transport (the transport methods we call, typed), prompt (plain TCP responses
sent in the turn they are written, without twisted's add/remove writer per response), compress (COMPRESS=DEFLATE: a
deflating transport, an inflater). ENVELOPE/BODYSTRUCTURE and MIME sections live in mail/ (mime, addresslist, summary).
Every command does bounded work on the event loop (issue 11): nesting, list lengths and pattern sizes are
capped (BAD), many responses go out in one write.

Importing this package imports nothing: only its modules import twisted, and the daemon imports them once the
reactor is installed (trap 1).

twisted's traps (Twisted 26.10; pinned >= 26.10, which fixed a negative literal size that froze the reactor,
GHSA-2qrf-pqgx-qh9v), and what we do about each:

One loop with asyncio
1. The asyncio reactor must be installed before anything imports `twisted.internet.reactor` (else
   ReactorAlreadyInstalledError), and inside the running coroutine, `asyncioreactor.install(
   asyncio.get_running_loop())`: installed at module level it makes a second loop that `asyncio.run` never
   runs, and no twisted listener is ever serviced. The daemon then calls `reactor.startRunning(
   installSignalHandlers=False)` (else startup triggers never fire and twisted takes the signals), never
   `reactor.stop()` (it would stop the asyncio loop: listeners are stopped and sessions closed instead), and
   sends twisted's log to stdlib logging (STDLibLogObserver). Modules here reach the reactor only inside
   functions (`_reactor()`), never at import.
2. A Deferred cannot be awaited in an asyncio coroutine ("Task got bad yield"), and `defer.ensureDeferred`
   stalls on asyncio futures: storage calls are coroutines all the way down; a command's coroutine runs as an
   asyncio task that answers its tag when done (replies.run), and the login checker's is wrapped for twisted
   (bridge.as_deferred, `Deferred.fromFuture`).

Command dispatch
3. Commands are looked up as class attributes named `<state>_<COMMAND>` (state unauth, auth, select, logout)
   holding a tuple `(handler, parser, parser, ..., constant, ...)`. twisted calls each parser as
   `parser(server, rest_of_line)`, expecting `(value, rest)` or a Deferred of it, then `handler(server, tag,
   *values)`. Overriding `do_X` alone changes nothing: the tuple must be rebound in our class. Each command
   module (commands, listing, selected, fetch, quota) holds its tuples in a class the session inherits
   (`MailboxCommands`...), whose handlers annotate `self` with a Protocol of what they use of the session
   (`FolderServer`...); parsers are plain functions of the server (arguments.py), called directly (twisted's
   `__doCommand` made a Deferred per argument: ours waits only for a literal still to come). session.py checks that
   IMAPSession satisfies every one of those Protocols, so mypy sees each use.
4. Many of twisted's callbacks are name-mangled private methods (`__cbAuthChunk`, `__ebDispatch`,
   `__ebLogin`): we override or call them as `_IMAP4Server__name`. `__ebDispatch` answers every error of an
   argument parser with BAD "Server error": ours maps errors like the handlers do (replies.reply_error).
5. lookupCommand decodes the command name as ASCII and raises on other octets ("* BAD Server error"): a name
   outside `[A-Za-z][A-Za-z0-9-]*` is simply unknown. A parser gets None, not b"", when a command has no
   arguments.
6. do_UID accepts only COPY, FETCH, STORE and SEARCH: ours adds UID MOVE (RFC 6851) and UID EXPUNGE (RFC 4315).
7. CREATE, DELETE, RENAME, SUBSCRIBE call IAccount synchronously and count a returned Deferred as success;
   SELECT, STATUS, APPEND, COPY answer a missing folder with BAD "Server error", several NO paths join str with
   bytes (and raise), and SELECT sends no UIDNEXT, PERMANENTFLAGS or UNSEEN: every command but LOGIN,
   AUTHENTICATE, CAPABILITY, LOGOUT, NAMESPACE and STARTTLS is ours. Each answers through one `run`
   (replies.py), so errors are mapped in one place (errors.py).

Reading the connection
8. Pipelined lines wait in a list (`blocked`) while a command runs, and the octets of a later command's
   literal are queued as if they were lines: pipelined APPENDs corrupt each other. We pause the transport
   instead (TCP back-pressure) until the command in progress is answered (session.lineReceived, _respond).
9. LineReceiver drops the connection on a line over its limit (16 KiB by default): we answer BAD and skip to
   the next line (session.lineLengthExceeded).
10. After STARTTLS, commands the client pipelined in the clear would run as if sent over TLS (CVE-2011-0411):
    the line buffer is cleared.
11. Literals: arg_astring splits a quoted string at the first '"' (no \\" or \\\\ escapes: a password with a
    quote fails), no parser knows {n+} (LITERAL+, RFC 7888), literal astrings are capped at 4 KiB, and APPEND
    spools a literal of any size to a temporary file before anyone checks it. Our parsers (arguments.py over
    syntax.py) honour escapes, take {n+}, allow 64 KiB astrings, and refuse a literal over its limit (the
    APPENDLIMIT for APPEND) before its octets are read when the client waits for a go-ahead, or read and throw
    them away when it does not, so they are never taken for commands.
12. AUTHENTICATE takes no initial response (SASL-IR, RFC 4959): ours feeds it to twisted's continuation.
    LOGIN failures come back as "LOGIN failed": ours answer [AUTHENTICATIONFAILED] or [UNAVAILABLE].
13. timeoutConnection talks to twisted's own mailbox API: ours says BYE and deselects.

Sessions and folders
14. IDLE ends on any line, not only DONE; and updates queued as "async" while a command runs must bypass the
    queue during IDLE, where they are the point (session.sendUntaggedResponse).
15. No cross-session EXPUNGE: twisted's mailbox listener knows newMessages, flagsChanged and modeChanged only,
    and twisted keeps no per-session sequence-number map. Each session has its own view (mailbox.py: sequence
    numbers over UIDs, expunges kept until RFC 3501 7.4.1 allows an EXPUNGE response) over one shared folder
    state that follows the store's change notifications (folder.py); flag changes reach other sessions there.
16. A MessageSet's `last` (what '*' means) must be set by the backend before iterating, and can be set only
    once: we parse sequence sets ourselves (syntax.sequence_set) and resolve them against the session's view.
17. FETCH takes a reactor turn (callLater(0)) per item and a write per message, parses headers for every
    ENVELOPE, never sets \\Seen, answers partials with <start.length>, re-serialises headers; BODYSTRUCTURE
    lower-cases parameters and crashes on a trailing ';'; FileProducer never closes its file: FETCH is ours
    (fetch.py, content.py), with ENVELOPE/BODYSTRUCTURE computed at delivery (mail/summary.py).
18. SEARCH on SUBJECT, HEADER, FROM, TO, CC compares str with bytes on Python 3 and never matches: SEARCH is
    ours, over the index (search.py).
19. LIST sends the mailbox's message flags as folder attributes and matches names case-insensitively: LIST
    and LSUB are ours (listing.py), with special-use attributes (RFC 6154).
20. We do not subclass MemoryAccount (it upper-cases folder names) nor use twisted's IMailbox/IMessage: our
    Account (account.py) is an IAccount only so that twisted's login accepts it.
21. The modified UTF-7 decoder accepts non-canonical names ('&AGE-' is 'a'): a name must re-encode to itself
    (wire.decode_mailbox).
22. twisted's response encoder (collapseNestedLists) takes ASCII text only: strings, literals and lists are
    written by wire.py and mail/summary.py.
"""
