"""Modified UTF-7 folder names (RFC 3501 5.1.3) as another server sends them, to text.

"&" starts a base64 run (with "," for "/") of UTF-16BE ended by "-"; "&-" is "&". Names that break these rules
are taken as they are: a folder still gets a readable name rather than an error.
"""

from __future__ import annotations

import base64
import binascii


def decode(name: str) -> str:
    out: list[str] = []
    rest = name
    while (start := rest.find("&")) >= 0:
        end = rest.find("-", start)
        if end < 0:
            break
        out.append(rest[:start])
        run = rest[start + 1 : end]
        if not run:
            out.append("&")
        else:
            try:
                padded = run.replace(",", "/") + "=" * (-len(run) % 4)
                out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
            except (binascii.Error, UnicodeDecodeError):
                out.append(rest[start : end + 1])
        rest = rest[end + 1 :]
    out.append(rest)
    return "".join(out)
