"""Tricky messages for FETCH rendering (RFC 3501 6.4.5, 7.4.2): groups and comments in addresses, folded
parameters, nested multiparts, message/rfc822, missing final CRLF, CR CR LF, odd encodings, empty bodies, 8-bit
headers. The same octets go to smb-suite and to a reference Dovecot (tests/integration/test_imap_dovecot.py)."""

from __future__ import annotations


def crlf(text: str) -> bytes:
    """Lines written with \\n in this file, sent with CRLF."""
    return text.replace("\n", "\r\n").encode()


_HEAD = "Date: Mon, 7 Dec 2026 10:00:00 +0100\nMessage-ID: <{name}@corpus.example>\n"

CORPUS: dict[str, bytes] = {
    "groups": crlf(
        _HEAD + "From: Ann <ann@example.org>\n"
        "To: undisclosed-recipients:;\n"
        'Cc: friends: a@example.org, "Bee, B." <b@example.org>;, solo@example.org\n'
        "Bcc: empty-group: ;\n"
        "Subject: groups\n\nbody\n"
    ),
    "comments": crlf(
        _HEAD + "From: <user-from (comment)@ (comment) domain.org>\n"
        "Sender: John (the man) Doe <john@example.org>\n"
        "Reply-To: reply@example.org (Reply Person)\n"
        'To: "Quoted \\"name\\"" <q@example.org>, (lead) plain@example.org\n'
        "Subject: comments (in subject)\n\nbody\n"
    ),
    "routes_and_odd_addresses": crlf(
        _HEAD + "From: Router <@relay1.example,@relay2.example:user@example.org>\n"
        "To: nohost, <>, Only Name\n"
        "Cc: =?utf-8?q?J=C3=B6rg?= <jorg@example.de>, John Q. Public <jqp@example.org>\n"
        "Subject: routes\n\nbody\n"
    ),
    "folded_boundary": crlf(
        _HEAD + "From: a@example.org\nSubject: folded boundary\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="foo\n bar"\n\n'
        "preamble\n--foo bar\nContent-Type: text/plain\n\nfirst\n--foo bar\n"
        "Content-Type: text/html;\n charset=utf-8\n\n<p>second</p>\n--foo bar--\nepilogue\n"
    ),
    "nested_multipart": crlf(
        _HEAD + "From: a@example.org\nSubject: nested\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="outer"\n\n'
        '--outer\nContent-Type: multipart/alternative; boundary="inner"\n\n'
        "--inner\nContent-Type: text/plain; charset=us-ascii\n\nplain text\nsecond line\n"
        "--inner\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        "<b>html</b>=\n\n--inner--\n"
        '--outer\nContent-Type: application/octet-stream; name="data.bin"\n'
        'Content-Disposition: attachment; filename="data.bin"\nContent-Transfer-Encoding: base64\n'
        "Content-ID: <part2@corpus.example>\nContent-Description: some data\nContent-Language: en, de\n"
        "Content-Location: http://example.org/data.bin\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n\n"
        "AAECAwQF\n--outer--\n"
    ),
    "message_rfc822": crlf(
        _HEAD + "From: a@example.org\nSubject: forwarded\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="fw"\n\n'
        "--fw\nContent-Type: text/plain\n\nsee below\n"
        "--fw\nContent-Type: message/rfc822\n\n"
        "From: Inner <inner@example.org>\nTo: x@example.org\nSubject: inner\n"
        'Content-Type: multipart/alternative; boundary="in"\n\n'
        "--in\nContent-Type: text/plain\n\ninner text\n--in\nContent-Type: text/html\n\n<i>inner</i>\n--in--\n"
        "--fw--\n"
    ),
    "digest": crlf(
        _HEAD + "From: a@example.org\nSubject: digest\nMIME-Version: 1.0\n"
        'Content-Type: multipart/digest; boundary="d"\n\n'
        "--d\n\nFrom: one@example.org\nSubject: one\n\nfirst\n"
        "--d\n\nFrom: two@example.org\nSubject: two\n\nsecond\n--d--\n"
    ),
    "no_final_crlf": crlf(_HEAD + "From: a@example.org\nSubject: no final CRLF\n\nline one\nline two"),
    "part_without_crlf": crlf(
        _HEAD + "From: a@example.org\nSubject: part without CRLF\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="p"\n\n'
        "--p\nContent-Type: text/plain\n\none line\n--p\nContent-Type: text/plain\n\n\n--p\n"
        "Content-Type: text/plain\n\nlast, unterminated"
    ),
    "cr_cr_lf": (
        _HEAD.replace("\n", "\r\r\n")
        + "From: a@example.org\r\r\nSubject: CR CR LF\r\r\n\r\r\nline one\r\r\nline two\r\r\n"
    ).encode(),
    "bare_lf": (_HEAD + "From: a@example.org\nSubject: bare LF\nTo: b@example.org\n\nline one\nline two\n").encode(),
    "odd_encodings": crlf(
        _HEAD + "From: a@example.org\nSubject: odd encodings\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="e"\n\n'
        "--e\nContent-Type: text/plain\nContent-Transfer-Encoding: 8 bit\n\nspaced\n"
        "--e\nContent-Type: text/plain\nContent-Transfer-Encoding: BASE64\n\nYWJj\n"
        "--e\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable (a comment)\n\nqp\n"
        "--e\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nuu\n"
        '--e\nContent-Type: text/plain\nContent-Transfer-Encoding: "7bit"\n\nquoted\n--e--\n'
    ),
    "odd_content_types": crlf(
        _HEAD + "From: a@example.org\nSubject: odd types\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="t"\n\n'
        "--t\nContent-Type: text\n\nno subtype\n"
        "--t\nContent-Type: TEXT/PLAIN; CHARSET=ISO-8859-1; Format=Flowed;\n\ncase and trailing ;\n"
        "--t\nContent-Type: application/x-thing; title*=utf-8''%E2%82%AC%20rates\n\nrfc2231\n"
        '--t\nContent-Type: image/png; name="a b.png" (comment)\n\npng\n--t--\n'
    ),
    "empty_bodies": crlf(
        _HEAD + "From: a@example.org\nSubject: empty parts\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="z"\n\n--z\n\n--z\nContent-Type: text/plain\n\n\n--z--\n'
    ),
    "header_only": crlf(_HEAD + "From: a@example.org\nSubject: header only\n\n"),
    "no_blank_line": crlf(_HEAD + "From: a@example.org\nSubject: no blank line\n"),
    "multipart_without_parts": crlf(
        _HEAD + "From: a@example.org\nSubject: no parts\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="none"\n\njust text, no delimiter\n'
    ),
    "eight_bit_headers": (
        _HEAD + "From: Zoé Müller <zoe@example.org>\nTo: Jürgen <j@example.de>\nSubject: Grüße aus Köln\n"
        'Content-Type: text/plain; charset=utf-8; name="Übersicht.txt"\nContent-Transfer-Encoding: 8bit\n\n'
        "Schöne Grüße\n"
    )
    .replace("\n", "\r\n")
    .encode(),
    "rfc2231_continuations": crlf(
        _HEAD + "From: a@example.org\nSubject: continuations\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="c"\n\n'
        '--c\nContent-Type: application/pdf; name*0="annual "; name*1="report.pdf"\n'
        "Content-Disposition: attachment; filename*1=report.pdf; filename*0=annual-\nContent-Language: en\n\n%PDF\n"
        "--c\nContent-Type: text/plain; charset=us-ascii\nContent-Disposition: inline\n\ntext\n--c--\n"
    ),
    "empty_and_repeated_fields": crlf(
        "Date: Mon, 7 Dec 2026 10:00:00 +0100\nFrom: first@example.org\nFrom: second@example.org\nSender:\n"
        "Reply-To: \nTo:\nSubject:\nSubject: second subject\nIn-Reply-To: <parent@example.org>\n"
        "Message-ID: <empty_and_repeated_fields@corpus.example>\n\nbody\n"
    ),
    "long_folded_headers": crlf(
        _HEAD + "From: a@example.org\nSubject: a subject that\n is folded\n\tover three lines\n"
        "To: first@example.org,\n second@example.org,\n  third@example.org\n"
        "X-Last: selected last\n\nbody\n"
    ),
}
CORPUS = {name: message.replace(b"{name}", name.encode()) for name, message in CORPUS.items()}
