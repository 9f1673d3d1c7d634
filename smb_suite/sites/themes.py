"""Site themes: folders found at run time in config.themes_dir, each described by its theme.toml.

A theme is added by dropping a folder in; nothing is registered anywhere. A folder holds:

    theme.toml              name, description, layouts, [colours.NAME] tables (see themes/README.md)
    templates/layouts/L.html one template per layout named in theme.toml (a page picks its layout)
    templates/contact.html  the contact page (its form posts to the site's own /_contact)
    templates/thanks.html   shown after a message was sent
    templates/404.html      the site's "page not found" page
    static/                 stylesheets, images, scripts: copied to /static/ (no CDN, no font service)
    static/preview.svg      the theme's picture in the admin (sign-up, editor); not published

Colours are CSS custom properties written into /static/colours.css; only #rrggbb values are accepted, so a
theme file cannot smuggle CSS (or worse) into a site.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from smb_suite import log
from smb_suite.errors import InvalidInput, NotFound

logger = logging.getLogger("smb_suite.sites")

REQUIRED_TEMPLATES = ("contact.html", "thanks.html", "404.html")
COLOUR_VALUE = re.compile(r"#[0-9a-fA-F]{6}")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
# Every colour scheme defines these; themes may add more (e.g. "surface").
COLOUR_ROLES = ("background", "text", "accent", "accent-text")
PREVIEW = "preview.svg"


@dataclass(frozen=True, slots=True)
class ColourScheme:
    key: str
    label: str
    values: tuple[tuple[str, str], ...]  # (css variable name, #rrggbb)

    def value(self, role: str) -> str:
        return dict(self.values)[role]


@dataclass(frozen=True, slots=True)
class Theme:
    key: str
    folder: Path
    name: str
    description: str
    layouts: tuple[str, ...]
    colours: tuple[ColourScheme, ...]
    descriptions: tuple[tuple[str, str], ...] = ()  # (language, description) from description_<lang> keys

    def describe(self, lang: str) -> str:
        """The description in a language the theme has words for, else its plain one."""
        return dict(self.descriptions).get(lang, self.description)

    def colour(self, key: str) -> ColourScheme:
        """The named colour scheme, or the theme's first one for an unknown or empty name."""
        for scheme in self.colours:
            if scheme.key == key:
                return scheme
        return self.colours[0]

    def layout(self, key: str) -> str:
        return key if key in self.layouts else self.layouts[0]

    @property
    def colour_choices(self) -> list[list[str]]:
        """[key, label] of each colour scheme, for the editor's script."""
        return [[scheme.key, scheme.label] for scheme in self.colours]

    @property
    def preview(self) -> Path | None:
        """The theme's picture, if it ships one (a path from the theme folder, never from a request)."""
        path = self.folder / "static" / PREVIEW
        return path if path.is_file() and not path.is_symlink() else None


def _colours(raw: object) -> tuple[ColourScheme, ...]:
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput("[colours] must define at least one colour scheme")
    schemes = []
    for key, table in raw.items():
        if not NAME.fullmatch(key) or not isinstance(table, dict):
            raise InvalidInput(f"[colours.{key}]: bad name or not a table")
        label = table.get("label", key)
        values = []
        for variable, value in table.items():
            if variable == "label":
                continue
            if not NAME.fullmatch(variable) or not isinstance(value, str) or not COLOUR_VALUE.fullmatch(value):
                raise InvalidInput(f'[colours.{key}] {variable}: expected a colour like "#1d4ed8"')
            values.append((variable, value.lower()))
        missing = set(COLOUR_ROLES) - {name for name, _ in values}
        if missing:
            raise InvalidInput(f"[colours.{key}]: missing {', '.join(sorted(missing))}")
        schemes.append(ColourScheme(key, str(label), tuple(values)))
    return tuple(schemes)


def load_theme(folder: Path) -> Theme:
    """Read and check one theme folder; raises InvalidInput naming what is wrong."""
    try:
        raw = tomllib.loads((folder / "theme.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"theme {folder.name}: cannot read theme.toml: {exc}") from exc
    try:
        layouts = raw.get("layouts")
        names_ok = isinstance(layouts, list) and all(isinstance(x, str) and NAME.fullmatch(x) for x in layouts)
        if not layouts or not names_ok:
            raise InvalidInput("layouts must be a list of names")
        templates = folder / "templates"
        needed = [f"layouts/{name}.html" for name in layouts] + list(REQUIRED_TEMPLATES)
        missing = [name for name in needed if not (templates / name).is_file()]
        if missing:
            raise InvalidInput(f"missing templates: {', '.join(missing)}")
        return Theme(
            key=folder.name,
            folder=folder,
            name=str(raw.get("name", folder.name)),
            description=str(raw.get("description", "")),
            descriptions=tuple(
                (key.removeprefix("description_"), str(value))
                for key, value in raw.items()
                if key.startswith("description_") and isinstance(value, str)
            ),
            layouts=tuple(layouts),
            colours=_colours(raw.get("colours")),
        )
    except InvalidInput as exc:
        raise InvalidInput(f"theme {folder.name}: {exc}") from exc


def discover(themes_dir: Path) -> dict[str, Theme]:
    """Every valid theme under themes_dir by folder name; broken ones are logged and left out."""
    themes: dict[str, Theme] = {}
    if not themes_dir.is_dir():
        return themes
    for folder in sorted(themes_dir.iterdir()):
        if not folder.is_dir() or not NAME.fullmatch(folder.name) or not (folder / "theme.toml").exists():
            continue
        try:
            themes[folder.name] = load_theme(folder)
        except InvalidInput as exc:
            log.event(logger, "sites.theme_skipped", theme=folder.name, error=str(exc))
    return themes


def get_theme(themes_dir: Path, key: str) -> Theme:
    if not NAME.fullmatch(key):
        raise NotFound(f"no theme named {key!r}")
    folder = themes_dir / key
    if not (folder / "theme.toml").is_file():
        raise NotFound(f"no theme named {key!r}")
    return load_theme(folder)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a #rrggbb colour."""
    channels = []
    for index in (1, 3, 5):
        value = int(colour[index : index + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio (1 to 21); body text needs at least 4.5."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
