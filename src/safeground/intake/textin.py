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
from collections.abc import Sequence
from pathlib import Path

from safeground.errors import InvalidInput, Problem

_BOMS = [  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

HINT = (
    "save the file as UTF-8 (Excel: Save As → 'CSV UTF-8'; QGIS: Save Features As, encoding UTF-8; "
    "Notepad/LibreOffice: encoding UTF-8) and import again"
)


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


def refuse_repeated_headers(names: Sequence[object], src: str, where: str = "line 1 (header)") -> None:
    """Two columns of the same name: which value is meant only the author knows. Python's csv and
    dict readers silently kept the last one (a team name, a latitude), so refuse them by name."""
    seen: set[str] = set()
    twice: list[str] = []
    for n in names:
        key = str(n).strip() if n is not None else ""  # exact: ODK Central exports both deviceid and DeviceID
        if key and key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    if twice:
        raise InvalidInput(
            [
                Problem(src, where, str(t), "column name appears twice: which value is meant is not known")
                for t in twice
            ],
            hint_text="give every column a unique name in the first row (rename or delete the extra one)",
        )


def check_utf8(path: Path, src: str, chunk: int = 1 << 20) -> None:
    """Refuse a file that must be UTF-8 (GeoJSON, RFC 7946) and is not, reading it in chunks.

    GDAL hands the bytes on as they are and Arrow failed on the first accented
    name with ``ArrowException: Wrapping �quipe failed``, a traceback."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = 0
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise InvalidInput(
                [Problem(src, "file", "encoding", "UTF-16 text; GeoJSON must be UTF-8 (RFC 7946)")], hint_text=HINT
            )
        fh.seek(0)
        while block := fh.read(chunk):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                at = done + exc.start
                raise InvalidInput(
                    [Problem(src, "file", "encoding", f"not UTF-8 text (byte {at}); GeoJSON must be UTF-8 (RFC 7946)"
                             + _guess(block))],
                    hint_text=HINT,
                ) from None  # fmt: skip
            done += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput(
                [Problem(src, "file", "encoding", "ends in the middle of a UTF-8 character (truncated?)")]
            ) from None
