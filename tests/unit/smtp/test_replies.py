"""Every SMTP reply the server writes is a named constant (or builder) of smb_suite/smtp/replies.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from smb_suite.smtp import replies

SMTP = Path(replies.__file__).resolve().parent
REPLY = re.compile(r"[2-5]\d\d[ -]")


def reply_literals(source: str) -> list[str]:
    """String literals (and the literal start of f-strings) that begin like an SMTP reply; docstrings aside."""
    tree = ast.parse(source)
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    inside_f_strings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            head = node.values[0].value
        elif isinstance(node, ast.Constant) and id(node) not in docstrings | inside_f_strings:
            head = node.value
        else:
            continue
        if isinstance(head, str) and REPLY.match(head):
            found.append(f"line {node.lineno}: {head!r}")
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in SMTP.glob("*.py") if p.name != "replies.py"))
def test_smtp_replies_come_from_the_replies_module(module: str) -> None:
    assert reply_literals((SMTP / module).read_text()) == []


def test_the_check_sees_a_reply_written_in_place() -> None:
    source = 'async def f(s):\n    """250 is what we want."""\n    await s.push("503 Error: need RCPT command")\n'
    assert reply_literals(source) == ["line 3: '503 Error: need RCPT command'"]
    assert reply_literals('x = f"250-{name}"\n') == ["line 1: '250-'"]


def test_every_named_reply_starts_with_its_code() -> None:
    named = {name: value for name, value in vars(replies).items() if name.isupper() and isinstance(value, str)}
    assert len(named) > 20 and all(REPLY.match(value) for value in named.values()), named
