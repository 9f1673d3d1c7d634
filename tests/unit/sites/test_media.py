"""Pictures for sites: recognised by their content, rewritten before they are kept (raster pictures resized for
phones and stripped of EXIF, SVG rewritten from an allow-list), refused when too big, of another kind or
unreadable."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from smb_suite.errors import InvalidInput
from smb_suite.sites import media


def picture(kind: str, size: tuple[int, int] = (40, 30), mode: str = "RGB", **options: object) -> bytes:
    output = io.BytesIO()
    Image.new(mode, size, "#c0ffee" if mode == "RGB" else 1).save(output, kind, **options)
    return output.getvalue()


@pytest.mark.parametrize(("kind", "media_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_a_picture_is_recognised_by_its_content(kind: str, media_type: str) -> None:
    assert media.sniff(picture(kind)) == media_type
    assert media.prepare(picture(kind)).media_type == media_type


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n", b"GIF89a\x01\x00\x01\x00", b"hello", b"<html><body>hi</body></html>", b"RIFF\x00\x00\x00\x00AVI "],
)
def test_anything_but_jpeg_png_webp_or_svg_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="not a JPEG, PNG, WebP or SVG"):
        media.prepare(data)


def test_a_truncated_picture_is_refused() -> None:
    with pytest.raises(InvalidInput, match="cannot be read"):
        media.prepare(picture("PNG", (300, 300))[:60])


def test_a_picture_over_the_size_limit_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(InvalidInput, match="too big"):
        media.prepare(b"\xff\xd8\xff" + bytes(media.MAX_MEDIA_BYTES))


def test_a_picture_with_too_many_pixels_is_refused() -> None:
    bomb = picture("PNG", (8000, 6000), mode="1")  # small file, 48 million pixels
    assert len(bomb) < media.MAX_MEDIA_BYTES
    with pytest.raises(InvalidInput, match="too many pixels"):
        media.prepare(bomb)


def test_a_large_photo_gets_a_screen_and_a_phone_size_without_its_exif() -> None:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x8825] = {2: (48, 51, 0)}  # GPSInfo: where the photo was taken
    photo = picture("JPEG", (2400, 1600), exif=exif.tobytes())
    prepared = media.prepare(photo)
    assert (prepared.width, prepared.height) == (1920, 1280)
    with Image.open(io.BytesIO(prepared.data)) as screen:
        assert screen.size == (1920, 1280)
        assert not screen.getexif()
    assert prepared.phone is not None
    with Image.open(io.BytesIO(prepared.phone)) as phone:
        assert phone.size == (640, 427)
    assert prepared.size == len(prepared.data) + len(prepared.phone)


def test_a_small_picture_has_no_phone_copy() -> None:
    assert media.prepare(picture("PNG", (300, 200))).phone is None


HOSTILE_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 50"
     onload="alert(1)">
  <script>alert(document.cookie)</script>
  <title>Our logo</title>
  <rect width="100" height="50" fill="#9a3412" onclick="steal()" style="fill:url(http://evil.test/x)"/>
  <a href="javascript:alert(1)"><circle r="5"/></a>
  <image href="http://evil.test/track.png" width="1" height="1"/>
  <use xlink:href="http://evil.test/sprite.svg#icon"/>
  <use href="#dot"/>
  <foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="http://evil.test/"/></foreignObject>
  <circle id="dot" cx="10" cy="10" r="4" fill="url(#grad)" style="stroke: #000"/>
  <text x="5" y="45">Caf\xc3\xa9 &amp; co</text>
</svg>"""


def test_an_svg_keeps_its_drawing_and_loses_scripts_handlers_and_outside_references() -> None:
    prepared = media.prepare(HOSTILE_SVG)
    text = prepared.data.decode()
    for bad in ("script", "alert", "onload", "onclick", "evil.test", "javascript", "foreignObject", "iframe", "<a"):
        assert bad not in text, bad
    root = ET.fromstring(prepared.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert [child.tag.split("}")[1] for child in root] == ["title", "rect", "use", "use", "circle", "text"]
    assert 'href="#dot"' in text and 'fill="url(#grad)"' in text and "Café &amp; co" in text
    assert {"script", "onload", "onclick", "style", "image", "foreignObject", "a"} <= set(prepared.removed)
    assert (prepared.width, prepared.height) == (100, 50) and prepared.phone is None


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
        b'<!DOCTYPE svg SYSTEM "http://evil.test/x.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"<svg><rect></svg>",
        b'<svg xmlns="http://www.w3.org/1999/xhtml"/>',
    ],
    ids=["entities", "external-dtd", "not-well-formed", "not-svg-namespace"],
)
def test_an_svg_with_a_dtd_or_broken_xml_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        media.prepare(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda text: ("<svg " + text).encode()))
def test_any_bytes_give_a_picture_or_our_own_refusal(data: bytes) -> None:
    try:
        prepared = media.prepare(data)
    except InvalidInput:
        return
    assert prepared.media_type in media.EXTENSIONS
