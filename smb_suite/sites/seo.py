"""What search engines read of a site: schema.org LocalBusiness structured data (JSON-LD) made from what the owner
gave (name, address, phone, opening hours, pictures), and the opening hours read from the owner's own lines.

Opening hours are free text for people ("Mon–Fri 7:00–18:00", "Lun-Ven 7h-18h30", "Sat 8am-12pm"); the lines
this reader understands become OpeningHoursSpecification entries, the others stay text only (never a guess).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_NAMES = {
    **{name[:2].lower(): index for index, name in enumerate(DAYS)},  # schema.org style: Mo Tu We Th Fr Sa Su
    **{name[:3].lower(): index for index, name in enumerate(DAYS)},
    **{name.lower(): index for index, name in enumerate(DAYS)},
    **{name: index for index, name in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
    **{
        name: index
        for index, name in enumerate(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"))
    },
}
DAY = r"[A-Za-zéèû]{2,9}\.?"
DAY_SPEC = re.compile(rf"^\s*({DAY}(?:\s*(?:-|–|—|to|à|au|,|&|and|et)\s*{DAY})*)\s*:?\s*(.*)$", re.IGNORECASE)
TIME = r"(\d{1,2})(?:[:h.](\d{2}))?\s*(am|pm|h)?"
TIME_RANGE = re.compile(rf"{TIME}\s*(?:-|–|—|to|à)\s*{TIME}", re.IGNORECASE)


def _day(token: str) -> int | None:
    return DAY_NAMES.get(token.strip().rstrip(".").lower())


def _days(spec: str) -> list[int] | None:
    """Days of a spec like "Mon-Fri", "Sat, Sun", "Lun à Ven"; None if a word is not a day."""
    found: list[int] = []
    for part in re.split(r"\s*(?:,|&|\band\b|\bet\b)\s*", spec, flags=re.IGNORECASE):
        ends = re.split(r"\s*(?:-|–|—|\bto\b|\bà\b|\bau\b)\s*", part, flags=re.IGNORECASE)
        days = [_day(end) for end in ends if end]
        if not days or any(day is None for day in days) or len(days) > 2:
            return None
        first, last = days[0], days[-1]
        assert first is not None and last is not None
        found.extend((first + step) % 7 for step in range((last - first) % 7 + 1))
    return list(dict.fromkeys(found))


def _clock(hour: str, minute: str | None, suffix: str | None) -> str | None:
    value = int(hour)
    if suffix and suffix.lower() == "pm" and value < 12:
        value += 12
    elif suffix and suffix.lower() == "am" and value == 12:
        value = 0
    if value > 24 or int(minute or 0) > 59:
        return None
    return f"{value:02d}:{minute or '00'}"


def opening_hours(lines: Sequence[str]) -> list[dict[str, Any]]:
    """schema.org OpeningHoursSpecification for each line read as days and time ranges."""
    specifications: list[dict[str, Any]] = []
    for line in lines:
        match = DAY_SPEC.match(line)
        if not match:
            continue
        days = _days(match.group(1))
        ranges = TIME_RANGE.findall(match.group(2))
        if not days or not ranges:
            continue
        for opens_h, opens_m, opens_s, closes_h, closes_m, closes_s in ranges:
            opens, closes = _clock(opens_h, opens_m, opens_s), _clock(closes_h, closes_m, closes_s)
            if opens is None or closes is None:
                continue
            specifications.append(
                {
                    "@type": "OpeningHoursSpecification",
                    "dayOfWeek": [f"https://schema.org/{DAYS[day]}" for day in days],
                    "opens": opens,
                    "closes": closes,
                }
            )
    return specifications


def postal_address(lines: Sequence[str]) -> dict[str, str] | None:
    """A PostalAddress from the owner's address lines: the last line is the town (with its postcode if it
    starts with one), the lines before it the street."""
    if not lines:
        return None
    address = {"@type": "PostalAddress"}
    *street, town = lines
    match = re.fullmatch(r"([A-Z]{0,2}-?\d{4,5})\s+(.+)", town)
    if match:
        address["postalCode"], address["addressLocality"] = match.group(1), match.group(2)
    else:
        address["addressLocality"] = town
    if street:
        address["streetAddress"] = ", ".join(street)
    return address


def local_business(
    name: str,
    url: str,
    description: str,
    address_lines: Sequence[str],
    phone: str,
    email: str,
    hours_lines: Sequence[str],
    images: Sequence[str],
    logo: str,
) -> dict[str, Any]:
    """schema.org LocalBusiness with what the owner gave (properties without a value are left out)."""
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "LocalBusiness", "name": name, "url": url}
    if description:
        data["description"] = description
    address = postal_address(address_lines)
    if address:
        data["address"] = address
    if phone:
        data["telephone"] = phone
    if email:
        data["email"] = email
    hours = opening_hours(hours_lines)
    if hours:
        data["openingHoursSpecification"] = hours
    if images:
        data["image"] = list(images)
    if logo:
        data["logo"] = logo
    return data


def json_ld(data: dict[str, Any]) -> Markup:
    """JSON for a <script type="application/ld+json"> element: "<", ">" and "&" escaped, so no text of the
    owner's can end the element (HTML 4.12.1.3)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped just above
