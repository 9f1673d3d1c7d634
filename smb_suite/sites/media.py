"""Pictures a business uploads for its site, checked by their content (never by their name) and rewritten before
anything keeps them: raster images are decoded and encoded again by Pillow (which drops EXIF, GPS positions
included, and anything hidden after the image data), in a size for screens and a smaller one for phones; SVG is
parsed with defusedxml (no DTD, no entities) and written again from a strict allow-list of elements and
attributes, so no script, event handler, foreign object or reference to another host survives.

Pure functions over bytes (CPU work: callers run them in a thread).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from smb_suite.errors import InvalidInput

if TYPE_CHECKING:
    from PIL import Image

MAX_MEDIA_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
SCREEN_WIDTH = 1920
PHONE_WIDTH = 640
MAX_SVG_DEPTH = 50
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/svg+xml": "svg"}
PILLOW_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

# SVG 1.1 / SVG 2 drawing elements; no script, style, foreignObject, image, a, animate*, set, use of other files.
SVG_ELEMENTS = frozenset(
    [
        "svg",
        "g",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "title",
        "desc",
        "defs",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "symbol",
        "use",
        "pattern",
    ]
)
SVG_ATTRIBUTES = frozenset(
    [
        "id",
        "class",
        "viewBox",
        "width",
        "height",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-opacity",
        "opacity",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
        "spreadMethod",
        "fx",
        "fy",
        "clip-path",
        "clip-rule",
        "mask",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "letter-spacing",
        "preserveAspectRatio",
        "patternUnits",
        "patternContentUnits",
        "patternTransform",
        "clipPathUnits",
        "maskUnits",
        "maskContentUnits",
        "role",
        "aria-label",
        "aria-hidden",
        "dx",
        "dy",
        "xml:space",
        "visibility",
        "display",
        "href",
    ]
)
# Attribute values may point inside the picture (url(#id), href="#id") and nowhere else.
OUTSIDE = re.compile(r"url\s*\(\s*(?!['\"]?#)|javascript:|data:|@import|expression\s*\(|\\", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A picture ready to keep: its type, size in pixels, the screen version and (raster) the phone version."""

    media_type: str
    width: int
    height: int
    data: bytes
    phone: bytes | None
    removed: tuple[str, ...] = ()  # what sanitising took out of an SVG, to tell the owner

    @property
    def size(self) -> int:
        return len(self.data) + len(self.phone or b"")


def sniff(data: bytes) -> str:
    """The media type the bytes really are (JPEG, PNG, WebP or SVG); InvalidInput for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:8192]:
        return "image/svg+xml"
    raise InvalidInput("this file is not a JPEG, PNG, WebP or SVG picture")


def prepare(data: bytes) -> Prepared:
    """Check and rewrite an uploaded picture (too big, wrong type, unreadable: InvalidInput, nothing kept)."""
    if len(data) > MAX_MEDIA_BYTES:
        raise InvalidInput(f"the picture is too big (at most {MAX_MEDIA_BYTES // (1024 * 1024)} MB)")
    if not data:
        raise InvalidInput("the file is empty")
    media_type = sniff(data)
    if media_type == "image/svg+xml":
        return sanitise_svg(data)
    return _raster(data, media_type)


def _raster(data: bytes, media_type: str) -> Prepared:
    # Pillow (2-4 MB with its codecs) is loaded by the first picture, not by every worker at start.
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(PILLOW_FORMATS)) as probe:
                if PILLOW_FORMATS.get(probe.format or "") != media_type:
                    raise InvalidInput("the picture's content does not match its type")
                if probe.width * probe.height > MAX_PIXELS:
                    raise InvalidInput("the picture has too many pixels (at most 40 million)")
                probe.load()
                image = ImageOps.exif_transpose(probe)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput("the picture cannot be read (damaged or not a picture)") from exc
    except Image.DecompressionBombWarning as exc:
        raise InvalidInput("the picture has too many pixels (at most 40 million)") from exc
    screen = _encode(image, SCREEN_WIDTH, media_type)
    phone = _encode(image, PHONE_WIDTH, media_type) if image.width > PHONE_WIDTH else None
    width, height = _fitted(image.size, SCREEN_WIDTH)
    return Prepared(media_type, width, height, screen, phone)


def _fitted(size: tuple[int, int], width: int) -> tuple[int, int]:
    if size[0] <= width:
        return size
    return width, max(1, round(size[1] * width / size[0]))


def _encode(image: Image.Image, width: int, media_type: str) -> bytes:
    from PIL import Image  # loaded by _raster already (lazily: see there)

    copy = image.resize(_fitted(image.size, width), Image.Resampling.LANCZOS) if image.width > width else image
    output = io.BytesIO()
    if media_type == "image/jpeg":
        copy.convert("RGB").save(output, "JPEG", quality=85, optimize=True, progressive=True)
    elif media_type == "image/webp":
        copy.save(output, "WEBP", quality=82)
    else:
        if copy.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            copy = copy.convert("RGBA")
        copy.save(output, "PNG", optimize=True)
    return output.getvalue()


# -- SVG -------------------------------------------------------------------------------------------------------


def _local(name: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag or attribute name."""
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


class _Writer:
    def __init__(self) -> None:
        self.removed: list[str] = []
        self.parts: list[str] = []

    def element(self, node: Element, depth: int) -> None:
        namespace, tag = _local(node.tag) if isinstance(node.tag, str) else ("", "")
        if namespace != SVG_NS or tag not in SVG_ELEMENTS or depth > MAX_SVG_DEPTH:
            self.removed.append(tag or "comment")
            return
        attributes = self.attributes(node)
        if depth == 0:
            attributes.insert(0, f"xmlns={quoteattr(SVG_NS)}")
        self.parts.append(f"<{tag}{''.join(' ' + a for a in attributes)}>")
        if node.text:
            self.parts.append(escape(node.text))
        for child in node:
            self.element(child, depth + 1)
            if child.tail:
                self.parts.append(escape(child.tail))
        self.parts.append(f"</{tag}>")

    def attributes(self, node: Element) -> list[str]:
        kept = []
        for name, value in node.attrib.items():
            namespace, local = _local(name)
            if namespace == XLINK_NS and local == "href":
                namespace = ""
            elif namespace == "http://www.w3.org/XML/1998/namespace":
                local = "xml:" + local
                namespace = ""
            allowed = namespace == "" and (local in SVG_ATTRIBUTES or local == "style")
            if local == "href" and not value.startswith("#"):
                allowed = False  # a reference to another file or host
            if not allowed or OUTSIDE.search(value) or local.lower().startswith("on"):
                self.removed.append(local)
                continue
            kept.append(f"{local}={quoteattr(value)}")
        return kept


def sanitise_svg(data: bytes) -> Prepared:
    """An SVG rewritten from the allow-list; what was dropped is listed (an owner sees it, nothing is silent)."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SyntaxError, ValueError) as exc:
        raise InvalidInput("the SVG picture cannot be read (not well-formed XML, or it declares a DTD)") from exc
    if _local(root.tag)[1] != "svg" or _local(root.tag)[0] != SVG_NS:
        raise InvalidInput("this file is not an SVG picture")
    writer = _Writer()
    writer.element(root, 0)
    width, height = _svg_size(root)
    text = "".join(writer.parts)
    return Prepared("image/svg+xml", width, height, text.encode(), None, tuple(dict.fromkeys(writer.removed)))


def _svg_size(root: Element) -> tuple[int, int]:
    numbers = re.findall(r"[-+]?\d*\.?\d+", root.get("viewBox", ""))
    try:
        width = float(re.sub(r"px$", "", root.get("width", "") or (numbers[2] if len(numbers) == 4 else "0")))
        height = float(re.sub(r"px$", "", root.get("height", "") or (numbers[3] if len(numbers) == 4 else "0")))
    except ValueError:
        return 0, 0
    return max(0, round(width)), max(0, round(height))
