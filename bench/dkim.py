"""DKIM signing cost per message: ours (dkimpy canonicalisation + OpenSSL through `cryptography`) against dkimpy's
own signing (pure-Python RSA, PyNaCl Ed25519), same messages, same keys, same run.

    .venv/bin/python bench/dkim.py [--quick]

Prints the machine, then one line per figure (docs/ARCHITECTURE.md):
`figure <name>: ours=<v> dkimpy=<v> unit=ms/msg ratio=<r>`.
Never fails on a number; stops (WrongAnswer) when a signature either side made does not verify with dkimpy.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from importlib import metadata
from pathlib import Path

# This file is named dkim.py: put the project root where its own folder would be, or it hides dkimpy's `dkim`.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import dkim as dkimpy  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from smb_suite.mail import dkim  # noqa: E402
from smb_suite.mail.dkim import Algorithm  # noqa: E402

DOMAIN = "shop.test"


def make_message(size: int) -> bytes:
    header = (
        b"From: Bob <bob@shop.test>\r\nTo: partner@elsewhere.test\r\nCc: team@shop.test\r\n"
        b"Subject: Quarterly figures\r\n"
        b"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@shop.test>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    line = b"The quick brown fox jumps over the lazy dog; figures attached as promised.  \r\n"
    return header + line * max(1, (size - len(header)) // len(line))


def per_message_ms(sign: Callable[[], object], count: int, rounds: int = 7) -> float:
    """The best of `rounds` mean times per call, in milliseconds (the best round is the one least disturbed by
    other work on the machine, which only ever adds time)."""
    sign()  # warm caches
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            sign()
        timings.append((time.perf_counter() - start) / count * 1000)
    return min(timings)


def dkimpy_key(algorithm: Algorithm, pem: bytes) -> bytes:
    """dkimpy takes RSA keys as PEM and Ed25519 keys as the base64 of the raw 32-byte seed."""
    if algorithm is Algorithm.RSA:
        return pem
    key = serialization.load_pem_private_key(pem, password=None)
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw)


def reference_sign(message: bytes, algorithm: Algorithm, selector: str, key: bytes) -> bytes:
    """dkimpy's signing, as its users call it (it parses the key on each call, as dkimpy's API requires)."""
    return bytes(
        dkimpy.sign(
            message,
            selector.encode(),
            DOMAIN.encode(),
            key,
            signature_algorithm=algorithm.value.encode(),
            canonicalize=(b"relaxed", b"relaxed"),
        )
    )


class WrongAnswer(RuntimeError):
    """A signature that does not verify: no figure is reported for it."""


def check_verifies(signer: str, headers: bytes, message: bytes, records: dict[str, str]) -> None:
    """Every DKIM-Signature `signer` made verifies with dkimpy against its selector's published record."""

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return records[name.decode().split(".", 1)[0]].encode()

    signed = headers + message
    checker = dkimpy.DKIM(signed)
    for index in range(headers.lower().count(b"dkim-signature:")):
        try:
            verified = checker.verify(idx=index, dnsfunc=dns)
        except dkimpy.DKIMException as error:
            raise WrongAnswer(f"{signer}: DKIM-Signature {index} does not verify: {error}") from error
        if not verified:
            raise WrongAnswer(f"{signer}: DKIM-Signature {index} does not verify")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (well under two minutes)")
    args = parser.parse_args()
    scale = 1 if args.quick else 5
    print(
        f"machine: cores={os.cpu_count()} python={platform.python_version()} {platform.machine()} "
        f"{platform.system()} dkimpy={metadata.version('dkimpy')} cryptography={metadata.version('cryptography')}"
    )
    pems = {algorithm: dkim.generate_private_key(algorithm) for algorithm in Algorithm}
    selectors = {Algorithm.RSA: "r1", Algorithm.ED25519: "e1"}
    loaded = {a: dkim.load_private_key(selectors[a], a, pems[a]) for a in Algorithm}
    records = {selectors[a]: dkim.public_record(a, pems[a]) for a in Algorithm}
    for size_name, size in (("2k", 2 * 1024), ("10k", 10 * 1024), ("100k", 100 * 1024)):
        message = make_message(size)
        reference_total = 0.0
        check_verifies("ours", dkim.sign(message, DOMAIN, list(loaded.values()), 0), message, records)
        for algorithm in Algorithm:
            key = dkimpy_key(algorithm, pems[algorithm])
            check_verifies("dkimpy", reference_sign(message, algorithm, selectors[algorithm], key), message, records)
            ours = per_message_ms(partial(dkim.sign, message, DOMAIN, [loaded[algorithm]], 0), 40 * scale)
            reference = partial(reference_sign, message, algorithm, selectors[algorithm], key)
            theirs = per_message_ms(reference, (4 if algorithm is Algorithm.RSA else 40) * scale)
            reference_total += theirs
            name = f"dkim_sign_{algorithm.key_type}_{size_name}"
            print(f"figure {name}: ours={ours:.3f} dkimpy={theirs:.3f} unit=ms/msg ratio={ours / theirs:.3f}")
        # What a submitted message costs: both signatures (ours hashes the body once for both).
        both = per_message_ms(partial(dkim.sign, message, DOMAIN, list(loaded.values()), 0), 40 * scale)
        print(
            f"figure dkim_sign_both_{size_name}: ours={both:.3f} dkimpy={reference_total:.3f} unit=ms/msg "
            f"ratio={both / reference_total:.3f}"
        )


if __name__ == "__main__":
    main()
