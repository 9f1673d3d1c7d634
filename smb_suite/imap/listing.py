"""LIST and LSUB (RFC 3501 6.3.8-9) with LIST-EXTENDED (RFC 5258), SPECIAL-USE selection (RFC 6154) and
LIST-STATUS (RFC 5819), over the account's folders.

twisted's LIST sends message flags as folder attributes and matches names case-insensitively; its astring
parser ignores quoting escapes. Here: selection options `(SUBSCRIBED RECURSIVEMATCH SPECIAL-USE REMOTE)`,
several patterns in parentheses, and `RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS (items))`. Children
and special-use attributes are always sent (RFC 5258 allows it); a STATUS response follows each listed
folder when asked (K-9/FairEmail and Thunderbird refresh every folder's counts with one command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from twisted.mail.imap4 import IllegalClientResponse

from smb_suite.errors import InvalidMailboxName
from smb_suite.imap import syntax, wildcard, wire
from smb_suite.imap.account import SPECIAL_USE, FolderInfo, ancestors
from smb_suite.imap.arguments import LiteralReader, Parsed, arg_astring, arg_pattern
from smb_suite.imap.commands import FolderServer, send_status
from smb_suite.imap.mailbox import DELIMITER
from smb_suite.imap.replies import run


def _matchers(names: wire.MailboxNames, reference: bytes, patterns: list[bytes]) -> list[wildcard.Wildcard]:
    """The patterns compiled for linear-time matching; too many or too long ones are BAD (bounded work). A
    reference or pattern that is no valid folder name (a bare "&" among atom characters, RFC 3501 5.1.3)
    matches nothing: LIST lists nothing rather than refusing."""
    if len(patterns) > wildcard.MAX_PATTERNS:
        raise IllegalClientResponse(f"LIST takes at most {wildcard.MAX_PATTERNS} patterns")
    if any(len(reference) + len(p) > wildcard.MAX_PATTERN for p in patterns):
        raise IllegalClientResponse(f"a LIST reference and pattern are limited to {wildcard.MAX_PATTERN} octets")
    reference_name = _decoded(names, reference) if reference else ""
    texts = [_decoded(names, p) for p in patterns if p]
    if reference_name is None:
        return []
    try:
        return [wildcard.list_matcher(reference_name, text, DELIMITER) for text in texts if text is not None]
    except wildcard.PatternTooLong as exc:
        raise IllegalClientResponse(str(exc)) from exc


def _decoded(names: wire.MailboxNames, raw: bytes) -> str | None:
    try:
        return names.decode(raw)
    except InvalidMailboxName:
        return None


def opt_list_select(_: object, line: bytes) -> tuple[list[bytes] | None, bytes]:
    """LIST's optional selection options: `(SUBSCRIBED RECURSIVEMATCH)` before the reference (twisted calls
    argument parsers with the server first)."""
    if not line.startswith(b"("):
        return None, line
    end = line.find(b")")
    if end < 0:
        raise IllegalClientResponse("unbalanced parentheses in LIST selection options")
    return line[1:end].split(), line[end + 1 :].lstrip(b" ")


ListTail = tuple[list[bytes], list[syntax.Token]]  # the patterns, and the tokens after them


def _one_pattern(parsed: tuple[bytes, bytes]) -> tuple[ListTail, bytes]:
    return ([parsed[0]], syntax.tokens(parsed[1])), b""


def list_tail(server: LiteralReader, line: bytes) -> Parsed[ListTail]:
    """The patterns (one, or several in parentheses) and the tokens after them (RETURN options)."""
    if line.startswith(b"("):
        tokens = syntax.tokens(line)
        patterns = tokens[0]
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, bytes) for p in patterns):
            raise IllegalClientResponse("LIST patterns must be strings in parentheses")
        return ([p for p in patterns if isinstance(p, bytes)], tokens[1:]), b""
    parsed = arg_pattern(server, line)
    if isinstance(parsed, tuple):
        return _one_pattern(parsed)
    return parsed.addCallback(_one_pattern)


Entry = tuple[str, list[str], bool]  # a name, its attributes, and whether it has CHILDINFO ("SUBSCRIBED")


def _subscribed(
    folders: dict[str, FolderInfo], subscribed: set[str], matches: Callable[[str], bool], lsub: bool, recursive: bool
) -> Iterator[Entry]:
    """The subscribed names that match, folders or not (RFC 5258 3.4: \\NonExistent), and with RECURSIVEMATCH
    (or LSUB, RFC 3501 6.3.9) the parents of subscribed names the patterns leave out (RFC 5258 3.5 CHILDINFO;
    LSUB says \\Noselect)."""
    hidden = {parent for name in subscribed if not matches(name) for parent in ancestors(name)}
    for name in sorted(subscribed | hidden, key=lambda n: (n != "INBOX", n)):
        if not matches(name) or (name not in subscribed and not (recursive or lsub)):
            continue
        folder = folders.get(name)
        if lsub:
            listed = folder is not None and name in subscribed
            yield name, list(folder.attributes) if folder is not None and listed else ["\\Noselect"], False
            continue
        attributes = list(folder.attributes) if folder is not None else ["\\NonExistent"]
        if name in subscribed:
            attributes.append("\\Subscribed")
        yield name, attributes, recursive and name in hidden


async def send_list(
    server: FolderServer, reference: bytes, patterns: list[bytes], options: syntax.ListOptions | None, command: bytes
) -> None:
    """`options` None: LSUB (subscribed names, RFC 3501 attributes only)."""
    separator = wire.string(DELIMITER.encode("ascii"))
    if patterns == [b""] and (options is None or not options.select):  # RFC 3501 6.3.8: the delimiter
        server.sendUntaggedResponse(command + b' (\\Noselect) %b ""' % separator)
        return
    matchers = _matchers(server.names, reference, patterns)
    if not matchers:
        return
    folders = {folder.name: folder for folder in await server.account.folders()}
    select = frozenset({"SUBSCRIBED"}) if options is None else options.select
    returns = frozenset() if options is None else options.returns
    subscribed = await server.account.subscriptions() if "SUBSCRIBED" in select | returns else set()

    def matches(name: str) -> bool:
        return any(matcher.matches(name) for matcher in matchers)

    entries: Iterable[Entry]
    if "SUBSCRIBED" in select:
        entries = _subscribed(folders, subscribed, matches, options is None, "RECURSIVEMATCH" in select)
    else:
        marked = "SUBSCRIBED" in returns
        entries = (
            (f.name, [*f.attributes, *(["\\Subscribed"] if marked and f.name in subscribed else [])], False)
            for f in folders.values()
            if matches(f.name)
        )
    for name, attributes, childinfo in entries:
        if "SPECIAL-USE" in select and name not in SPECIAL_USE:
            continue
        extended = b' ("CHILDINFO" ("SUBSCRIBED"))' if childinfo else b""
        text = " ".join(attributes).encode("ascii")
        encoded = server.names.encode(name)
        server.sendUntaggedResponse(b"%b (%b) %b %b%b" % (command, text, separator, encoded, extended))
        if options is not None and options.status and name in folders:  # RFC 5819: not for \NonExistent
            await send_status(server, name, options.status)


class ListCommands:
    """The command table entries of LIST and LSUB, inherited by the server class."""

    def do_LIST(self: FolderServer, tag: bytes, select: list[bytes] | None, reference: bytes, tail: ListTail) -> None:
        patterns, rest = tail

        async def work() -> None:
            options = syntax.list_options(select, rest)
            await send_list(self, reference, patterns, options, b"LIST")

        run(self, tag, work, b"LIST completed")

    def do_LSUB(self: FolderServer, tag: bytes, reference: bytes, pattern: bytes) -> None:
        run(self, tag, lambda: send_list(self, reference, [pattern], None, b"LSUB"), b"LSUB completed")

    auth_LIST = select_LIST = (do_LIST, opt_list_select, arg_astring, list_tail)
    auth_LSUB = select_LSUB = (do_LSUB, arg_astring, arg_pattern)
