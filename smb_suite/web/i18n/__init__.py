"""The admin pages in English and French: a small dict catalog (fr.py), the language from a cookie the user
set with the switch in the header, else from the browser's Accept-Language (RFC 9110 12.5.4), else English.

Templates call `_("English text", name=value)`; the English text is the key, `{name}` fields are filled after
translation. A test checks that every string the templates and views pass to `_` has a French entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request

from smb_suite.quota import format_bytes
from smb_suite.web.i18n.fr import MESSAGES as FRENCH

LANG_COOKIE = "smb_lang"
LANGUAGES: Mapping[str, str] = {"en": "English", "fr": "Français"}
DEFAULT = "en"
CATALOGS: Mapping[str, Mapping[str, str]] = {"en": {}, "fr": FRENCH}

Translate = Callable[..., str]


def from_accept_language(header: str) -> str | None:
    """The supported language the browser prefers most (q=0 means 'not this one')."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0 and (best is None or (quality, -position) > best[:2]):
            best = (quality, -position, primary)
    return best[2] if best else None


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT


def translator(lang: str) -> Translate:
    catalog = CATALOGS.get(lang, {})

    def translate(text: str, /, **fields: object) -> str:
        translated = catalog.get(text, text)
        return translated.format(**fields) if fields else translated

    return translate


FRENCH_UNITS = {"KB": "Ko", "MB": "Mo", "GB": "Go"}


def bytes_formatter(lang: str) -> Callable[[int], str]:
    """Sizes as the tiers are sold (binary units), written the way the language writes numbers: in French
    "50,0 Mo" and "0 octet" (a decimal comma, a no-break space before the unit)."""
    if lang != "fr":
        return format_bytes

    def french(count: int) -> str:
        english = format_bytes(count)
        number, unit = english.split(" ")
        if unit == "bytes":
            return f"{number}\u00a0octet{'s' if abs(count) > 1 else ''}"
        return f"{number.replace('.', ',')}\u00a0{FRENCH_UNITS[unit]}"

    return french
