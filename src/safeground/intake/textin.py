"""Text files as they arrive: UTF-8, or UTF-16 saved by Excel and Notepad, or Latin-1 from an old PC.

A traverse record or a form export written on Windows is often UTF-16 (with a
byte order mark) or Windows-1252/Latin-1 (without any mark). Decoding such a
file as UTF-8 raised ``UnicodeDecodeError`` with a traceback. Guessing a legacy
8-bit encoding is not safe (a village name decoded with the wrong code page is
a different name), so the rule is:

* a byte order mark settles it: UTF-8, UTF-16 or UTF-32 are read as marked;
* without a mark the text must be UTF-8;
* otherwise the file is refused with the byte that failed and the fix: save it
  as UTF-8 (and which encoding it probably is, when that is clear).
"""

from __future__ import annotations

import codecs

from safeground.errors import InvalidInput, Problem

_BOMS = [  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

HINT = "save the file as UTF-8 (Excel: Save As → 'CSV UTF-8'; Notepad/LibreOffice: encoding UTF-8) and import again"


def decode(data: bytes, src: str) -> str:
    """The text of a file's bytes by the rule above, or ``InvalidInput`` naming the byte and the fix."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    [Problem(src, "file", "encoding", f"marked as {encoding.upper()} but byte {exc.start} is not")],
                    hint_text=HINT,
                ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            [Problem(src, "file", "encoding", f"not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r})"
                     + _guess(data))],
            hint_text=HINT,
        ) from None  # fmt: skip


def _guess(data: bytes) -> str:
    """What the bytes probably are, to tell the user what to convert from (never used to decode)."""
    sample = data[:4096]
    if len(sample) >= 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > len(sample) // 4:
            return "; it looks like UTF-16 (little-endian) without a byte order mark"
        if even > len(sample) // 4:
            return "; it looks like UTF-16 (big-endian) without a byte order mark"
    if any(0x80 <= b <= 0x9F for b in sample):
        return "; it looks like Windows-1252 (a Western European Windows encoding)"
    return "; it looks like Latin-1 (ISO 8859-1) or another 8-bit encoding"
