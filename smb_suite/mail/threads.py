"""Threading messages into conversations (RFC 5256 3): ORDEREDSUBJECT, and REFERENCES (the algorithm of Jamie
Zawinski that the RFC specifies). Pure: each message comes in as a `Threadable` in mailbox order, which breaks
ties; the result is a list of `Thread` trees whose `number` is None for a dummy (a message never seen)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from smb_suite.mail.subject import BaseSubject, base_subject, sort_key

_MSG_ID = re.compile(r"<[^<>\s]+>")  # RFC 5322 3.6.4 msg-id, as far as threading needs it


@dataclass(frozen=True, slots=True)
class Threadable:
    number: int  # the sequence number or UID the answer names it by
    sent: float  # the sent date (RFC 5256 2.2) as a POSIX time
    subject: str  # decoded from RFC 2047
    message_id: str | None = None  # the raw header fields
    references: str | None = None
    in_reply_to: str | None = None


@dataclass(eq=False)
class Thread:
    number: int | None
    children: list[Thread] = field(default_factory=list)
    order: tuple[float, int] = (0.0, 0)  # (sent, position in the mailbox); a dummy's is its first child's
    subject: BaseSubject = BaseSubject("", False)
    parent: Thread | None = field(default=None, repr=False)

    def adopt(self, child: Thread) -> None:
        if child.parent is not None:
            child.parent.children.remove(child)
        child.parent = self
        self.children.append(child)

    def reaches(self, other: Thread) -> bool:
        """Whether `other` is this container or one of its ancestors (a link the other way would be a loop)."""
        node: Thread | None = self
        while node is not None:
            if node is other:
                return True
            node = node.parent
        return False


def ordered_subject(messages: Iterable[Threadable]) -> list[Thread]:
    """RFC 5256 3, ORDEREDSUBJECT: one thread per base subject, ordered by sent date; the first message is the
    parent of all the others. Threads are ordered by the sent date of their first message."""
    groups: dict[bytes, Thread] = {}
    for position, message in sorted(enumerate(messages), key=lambda item: (item[1].sent, item[0])):
        node = Thread(message.number, order=(message.sent, position))
        key = sort_key(base_subject(message.subject).text)
        if key in groups:
            groups[key].adopt(node)
        else:
            groups[key] = node
    return sorted(groups.values(), key=lambda thread: thread.order)


def references(messages: Iterable[Threadable]) -> list[Thread]:
    """RFC 5256 3, REFERENCES, steps 1 to 7."""
    by_id: dict[str, Thread] = {}
    nodes = []
    for position, message in enumerate(messages):  # (1)
        node = _own_container(by_id, message.message_id)
        node.number, node.order = message.number, (message.sent, position)
        node.subject = base_subject(message.subject)
        nodes.append(node)
        chain = [_container(by_id, ref) for ref in _parents_of(message)]
        for parent, child in zip(chain, chain[1:], strict=False):  # (1A) link the references in order
            if child.parent is None and not parent.reaches(child):
                parent.adopt(child)
        if chain and not chain[-1].reaches(node):  # (1B) the last reference is the parent
            chain[-1].adopt(node)
        elif node.parent is not None:
            node.parent.children.remove(node)
            node.parent = None
    roots = [node for node in {id(n): n for n in (*by_id.values(), *nodes)}.values() if node.parent is None]  # (2)
    roots = _prune(roots)  # (4)
    for root in roots:  # (5)
        _sort(root.children)
        if root.number is None:
            root.order = root.children[0].order
    _sort(roots)
    roots = _merge_subjects(roots)  # (6)
    for root in roots:  # (7)
        _sort_tree(root)
    _sort(roots)
    return roots


def _container(by_id: dict[str, Thread], msg_id: str) -> Thread:
    """The container of a Message-ID, made empty (a dummy) when first seen."""
    node = by_id.get(msg_id)
    if node is None:
        node = by_id[msg_id] = Thread(None)
    return node


def _own_container(by_id: dict[str, Thread], raw: str | None) -> Thread:
    """A message's container; one without a Message-ID, or whose ID another message took, gets its own."""
    found = _MSG_ID.search(raw or "")
    if found is None:
        return Thread(None)
    node = _container(by_id, found.group())
    return Thread(None) if node.number is not None else node


def _parents_of(message: Threadable) -> list[str]:
    """References, or else the first msg-id of In-Reply-To (RFC 5256 3, REFERENCES step 1A)."""
    found = _MSG_ID.findall(message.references or "")
    if not found:
        found = _MSG_ID.findall(message.in_reply_to or "")[:1]
    own = _MSG_ID.search(message.message_id or "")
    return [ref for ref in found if own is None or ref != own.group()]


def _prune(roots: list[Thread]) -> list[Thread]:
    """Step 4: dummies without children go; a dummy's children take its place, except that several children
    are not promoted to the top level. Iterative: a reply chain may be thousands of messages deep."""
    for node in reversed(_walk(roots)):  # children before their parents
        kept: list[Thread] = []
        for child in node.children:
            kept.extend(child.children if child.number is None else [child])
        node.children = kept
        for child in kept:
            child.parent = node
    top: list[Thread] = []
    for root in roots:
        if root.number is None and len(root.children) < 2:
            for child in root.children:
                child.parent = None
            top.extend(root.children)
        else:
            top.append(root)
    return top


def _walk(roots: list[Thread]) -> list[Thread]:
    """Every container under `roots`, each before its descendants."""
    found: list[Thread] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def _sort(siblings: list[Thread]) -> None:
    siblings.sort(key=lambda node: node.order)


def _sort_tree(root: Thread) -> None:
    for node in reversed(_walk([root])):  # children first: a dummy is ordered by its first child
        _sort(node.children)
        if node.number is None and node.children:
            node.order = node.children[0].order


def _subject(node: Thread) -> BaseSubject:
    return node.children[0].subject if node.number is None else node.subject


def _merge_subjects(roots: list[Thread]) -> list[Thread]:
    """Step 6: top-level threads with the same base subject become one."""
    table: dict[bytes, Thread] = {}
    for root in roots:  # (6B)
        subject = _subject(root)
        key = sort_key(subject.text)
        if not key:
            continue
        held = table.get(key)
        if (
            held is None
            or (root.number is None and held.number is not None)
            or (root.number is not None and held.number is not None and held.subject.reply and not subject.reply)
        ):
            table[key] = root
    dummies: list[Thread] = []
    for root in roots:  # (6C)
        subject = _subject(root)
        key = sort_key(subject.text)
        held = table.get(key)
        if held is None or held is root or root.parent is not None:
            continue
        if held.number is None and root.number is None:  # both dummies: one keeps the children
            for child in list(root.children):
                held.adopt(child)
        elif held.number is None or (subject.reply and not _subject(held).reply):
            held.adopt(root)
        else:
            dummy = Thread(None)
            dummy.adopt(held)
            dummy.adopt(root)
            table[key] = dummy
            dummies.append(dummy)
    return [node for node in (*roots, *dummies) if node.parent is None and (node.number is not None or node.children)]


def wire(threads: Sequence[Thread]) -> bytes:
    """The THREAD response's data (RFC 5256 4): `(3 6 (4 23)(44 7 96))`, a dummy showing as no number. A chain
    of single replies is one list of numbers; iterative, whatever the depth."""
    out: list[bytes] = []
    stack: list[bytes | Thread] = []
    for thread in reversed(threads):
        stack += [b")", thread, b"("]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            out.append(item)
            continue
        numbers: list[bytes] = []
        node = item
        while True:
            if node.number is not None:
                numbers.append(b"%d" % node.number)
            if len(node.children) != 1:
                break
            node = node.children[0]
        out.append(b" ".join(numbers))
        if node.children and numbers:
            out.append(b" ")
        for child in reversed(node.children):
            stack += [b")", child, b"("]
    return b"".join(out)
