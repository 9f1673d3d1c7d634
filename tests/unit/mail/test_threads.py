"""THREAD algorithms (RFC 5256 3) and the THREAD response form (RFC 5256 4), from the RFC's examples."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail.threads import Threadable, ordered_subject, references, wire


def message(number: int, subject: str = "", refs: str = "", sent: float | None = None, **fields: str) -> Threadable:
    return Threadable(
        number,
        float(number) if sent is None else sent,
        subject or f"subject {number}",
        fields.get("message_id", f"<{number}@example.test>"),
        refs,
        fields.get("in_reply_to"),
    )


def ids(*numbers: int) -> str:
    return " ".join(f"<{n}@example.test>" for n in numbers)


def test_references_builds_the_tree_of_the_rfc_example() -> None:
    """RFC 5256 4: `(2)(3 6 (4 23)(44 7 96))`: 3 has one reply 6, which has two, 4 (with 23) and 44 (7, 96)."""
    messages = [
        message(2),
        message(3),
        message(6, refs=ids(3)),
        message(4, refs=ids(3, 6)),
        message(23, refs=ids(3, 6, 4)),
        message(44, refs=ids(3, 6), sent=24),
        message(7, refs=ids(3, 6, 44), sent=25),
        message(96, refs=ids(3, 6, 44, 7)),
    ]
    assert wire(references(messages)) == b"(2)(3 6 (4 23)(44 7 96))"


def test_a_missing_parent_of_several_replies_is_a_dummy_without_number() -> None:
    """RFC 5256 4: `((3)(5))`, the parent never arrived; with one reply only, the dummy goes (step 4B)."""
    assert wire(references([message(3, refs=ids(1)), message(5, refs=ids(1))])) == b"((3)(5))"
    assert wire(references([message(3, refs=ids(1))])) == b"(3)"


def test_missing_links_inside_a_thread_are_spliced_out() -> None:
    """Step 4B: a dummy below the top is replaced by its children."""
    assert wire(references([message(1), message(4, refs=ids(1, 2)), message(5, refs=ids(1, 3))])) == b"(1 (4)(5))"


def test_in_reply_to_is_used_when_there_are_no_references() -> None:
    """Step 1A: References, else the first msg-id of In-Reply-To."""
    reply = message(2, in_reply_to=f"{ids(1)} (sent by Alice)")
    assert wire(references([message(1), reply])) == b"(1 2)"


def test_the_same_subject_merges_top_level_threads() -> None:
    """Step 6: a reply by subject goes under the original; two originals go under a new dummy."""
    assert wire(references([message(3, "Hello"), message(5, "Re: hello")])) == b"(3 5)"
    assert wire(references([message(3, "Hello"), message(5, "Hello")])) == b"((3)(5))"
    assert wire(references([message(3, "Re: Hello"), message(5, "Hello")])) == b"(5 3)"
    assert wire(references([message(3, "Hello"), message(4, "Other"), message(5, "Hello")])) == b"((3)(5))(4)"


def test_siblings_and_threads_are_ordered_by_sent_date_then_mailbox_order() -> None:
    """Steps 5 and 7."""
    messages = [message(1, sent=50), message(2, refs=ids(1), sent=30), message(3, refs=ids(1), sent=10)]
    messages += [message(4, sent=40), message(5, sent=40)]
    assert wire(references(messages)) == b"(4)(5)(1 (3)(2))"


def test_duplicate_message_ids_and_loops_are_harmless() -> None:
    """Step 1: a second message with the same Message-ID is a message of its own; no container is its own
    ancestor."""
    same = [message(1, message_id="<x@y>"), message(2, message_id="<x@y>")]
    assert wire(references(same)) == b"(1)(2)"
    loop = [message(1, refs=ids(2)), message(2, refs=ids(1))]
    assert wire(references(loop)) in (b"(1 2)", b"(2 1)")


def test_ordered_subject_groups_by_base_subject() -> None:
    """RFC 5256 3 ORDEREDSUBJECT: the first message is the parent of all the others with its base subject."""
    messages = [message(1, "a"), message(2, "b"), message(3, "Re: a"), message(4, "re: A"), message(5, "Re: b")]
    assert wire(ordered_subject(messages)) == b"(1 (3)(4))(2 5)"
    assert wire(ordered_subject([])) == b""


headers = st.lists(st.integers(1, 6), max_size=4).map(lambda numbers: ids(*numbers))


@given(st.lists(st.tuples(st.integers(1, 6), headers, st.integers(0, 3), st.sampled_from(["x", "Re: x", "y"]))))
def test_every_message_appears_exactly_once(specs: list[tuple[int, str, int, str]]) -> None:
    messages = [
        Threadable(n, float(sent), subject, f"<{own}@example.test>", refs)
        for n, (own, refs, sent, subject) in enumerate(specs, 1)
    ]
    for algorithm in (references, ordered_subject):
        numbers = wire(algorithm(messages)).replace(b"(", b" ").replace(b")", b" ").split()
        assert sorted(int(n) for n in numbers) == list(range(1, len(messages) + 1))


def test_deep_reply_chains_and_combs_need_no_recursion() -> None:
    """A mailing list thread where each message answers the one before it, thousands deep."""
    depth = 5000
    chain = [message(1)] + [message(n, refs=ids(n - 1)) for n in range(2, depth + 1)]
    assert wire(references(chain)) == b"(" + b" ".join(b"%d" % n for n in range(1, depth + 1)) + b")"
    comb = [message(1)] + [message(n, refs=ids(n - 2 if n % 2 else max(1, n - 3))) for n in range(2, depth + 1)]
    assert wire(references(comb)).count(b"(") > depth // 3
