"""Where each folder of the old server goes: its special use (RFC 6154 attributes, else well-known names in
English, French and German), its hierarchy in our "/" names, its modified UTF-7 decoded (RFC 3501 5.1.3)."""

from __future__ import annotations

from dataclasses import dataclass

from smb_suite.mail import mutf7

# RFC 6154 2: the attribute of each special folder, and the folder it is here (storage creates them)
SPECIAL_USE = {"\\sent": "Sent", "\\drafts": "Drafts", "\\trash": "Trash", "\\junk": "Junk", "\\archive": "Archive"}
KNOWN_NAMES = {
    **dict.fromkeys(["sent", "sent items", "sent messages", "sent mail", "envoyés", "éléments envoyés"], "Sent"),
    **dict.fromkeys(["gesendet", "gesendete objekte", "gesendete elemente"], "Sent"),
    **dict.fromkeys(["drafts", "draft", "brouillons", "entwürfe"], "Drafts"),
    **dict.fromkeys(["trash", "deleted items", "deleted messages", "bin", "corbeille", "papierkorb"], "Trash"),
    **dict.fromkeys(["éléments supprimés", "gelöschte elemente", "gelöschte objekte"], "Trash"),
    **dict.fromkeys(["junk", "junk e-mail", "junk email", "spam", "courrier indésirable", "indésirables"], "Junk"),
    **dict.fromkeys(["archive", "archives", "archiv"], "Archive"),
}
NOT_SELECTABLE = frozenset({"\\noselect", "\\nonexistent"})


@dataclass(frozen=True, slots=True)
class RemoteFolder:
    """A folder as the old server's LIST gave it: the name as sent (to EXAMINE it), separator, attributes."""

    wire_name: str
    separator: str | None
    attributes: frozenset[str]  # lower case

    @property
    def selectable(self) -> bool:
        return not self.attributes & NOT_SELECTABLE


def local_name(folder: RemoteFolder) -> str:
    """Our name for it: INBOX stays INBOX; a special folder at the top becomes ours ("Sent Items" -> "Sent");
    Courier-style "INBOX.Sub" loses its "INBOX." (everything lives under INBOX there); levels join with "/"."""
    text = mutf7.decode(folder.wire_name)
    separator = folder.separator
    parts = text.split(separator) if separator else [text]
    if separator == "." and len(parts) > 1 and parts[0].upper() == "INBOX":
        parts = parts[1:]
    parts = [_readable(part) for part in parts]
    if len(parts) == 1:
        if parts[0].upper() == "INBOX":
            return "INBOX"
        special = next((SPECIAL_USE[a] for a in sorted(folder.attributes) if a in SPECIAL_USE), None)
        return special or KNOWN_NAMES.get(parts[0].lower(), parts[0])
    return "/".join(parts)


def _readable(part: str) -> str:
    """A level of the name without our delimiter, control characters or surrounding spaces."""
    cleaned = "".join(" " if ord(char) < 0x20 or ord(char) == 0x7F else char for char in part.replace("/", "-"))
    return cleaned.strip() or "_"
