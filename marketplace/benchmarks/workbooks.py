"""Excel workbooks: opened only after their zip directory shows they are safe to unpack.

openpyxl reads the first sheet in read-only mode; cells come back as the person sees them
(a number formatted as a percentage is the percentage). Macro workbooks and zip bombs are
refused before anything is decompressed.

A workbook can be hostile at a ratio no zip-bomb rule sees: 2 MB of sharedStrings.xml that
unpacks to 190 MB and eleven million strings, which openpyxl would hold in memory whole. So
every member's unpacked size is capped (zipfile never yields more than the size the
directory declares), and the shared strings and the first sheet's cells are counted while
their XML is streamed, in chunks, before openpyxl reads a byte: such a file is refused in a
fraction of a second with a few megabytes of memory. The sheet is then read whole into
memory (bounded by the caps) so that no database transaction waits on openpyxl.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

from marketplace.benchmarks.parsing import ParsedFile, UnreadableFile, read_table, refuse

# A workbook this much larger unpacked than packed is a zip bomb, not a spreadsheet.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 150
MAX_ZIP_MEMBERS = 500
# No part of a benchmark return unpacks to more than this (100,000 rows of six cells are
# about 40 MB of sheet XML); the shared strings hold text only, so less.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
MAX_SHARED_STRINGS = 500_000
MAX_CELLS = 1_000_000
CHUNK = 1024 * 1024
# Opening tags, with or without a namespace prefix; counted with bytes.count (C speed).
SHARED_STRING = (b"<si>", b"<si ", b":si>", b":si ")
CELL = (b"<c>", b"<c ", b":c>", b":c ")
TOO_MUCH = (
    "The workbook unpacks to far more data than a benchmark return holds, so it was not "
    "opened. Upload a workbook with just the benchmark sheet, or a CSV file."
)


def check_zip(content: bytes) -> zipfile.ZipFile:
    """Open a workbook's zip only after its directory shows it is safe to unpack."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise refuse(
            "The workbook is damaged and cannot be opened. Open it in Excel, save it again "
            "as an Excel Workbook (.xlsx) and upload it.",
            status_cls=UnreadableFile,
        ) from None
    unpacked = sum(m.file_size for m in members)
    worst = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    if (
        len(members) > MAX_ZIP_MEMBERS
        or unpacked > MAX_UNPACKED_BYTES
        or (worst > MAX_COMPRESSION_RATIO and unpacked > 10 * 1024 * 1024)
        or any(m.file_size > _member_cap(m.filename) for m in members)
    ):
        raise refuse(TOO_MUCH)
    names = {m.filename for m in members}
    types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    if "xl/vbaProject.bin" in names or b"macroEnabled" in types:
        raise refuse(
            "This workbook contains macros. Save it as an Excel Workbook (.xlsx) without "
            "macros, or as CSV, and upload that."
        )
    if "xl/workbook.xml" not in names:
        raise refuse(
            "This zip file is not an Excel workbook. Upload an Excel Workbook (.xlsx) or a "
            "CSV file."
        )
    _count_while_streaming(archive, names)
    return archive


def _member_cap(name: str) -> int:
    return (
        MAX_SHARED_STRINGS_BYTES
        if name.lower().endswith("sharedstrings.xml")
        else (MAX_MEMBER_BYTES)
    )


def _count_while_streaming(archive: zipfile.ZipFile, names: set[str]) -> None:
    """Count shared strings and cells chunk by chunk; refuse as soon as a cap is passed."""
    for name in names:
        lower = name.lower()
        if lower.endswith("sharedstrings.xml"):
            pattern, cap, what = SHARED_STRING, MAX_SHARED_STRINGS, "shared strings"
        elif lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
            pattern, cap, what = CELL, MAX_CELLS, "cells"
        else:
            continue
        count = 0
        carry = b""
        try:
            with archive.open(name) as member:
                while chunk := member.read(CHUNK):
                    # The carried tail (shorter than any tag) lets a tag split across two
                    # chunks be counted once, and none twice.
                    buffer = carry + chunk
                    count += sum(buffer.count(tag) for tag in pattern)
                    if count > cap:
                        raise refuse(
                            f"The workbook holds more than {cap:,} {what}, far more than a "
                            "benchmark return needs, so it was not read. Upload a workbook "
                            "with just the benchmark sheet, or a CSV file."
                        )
                    carry = buffer[-3:]
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
            raise refuse(
                "The workbook is damaged and cannot be opened. Open it in Excel, save it "
                "again as an Excel Workbook (.xlsx) and upload it.",
                status_cls=UnreadableFile,
            ) from None


def _as_seen(cells) -> list:
    """Cell values as the person sees them: a number shown as 85% is 85, not 0.85."""
    values = []
    for cell in cells:
        value = cell.value
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and "%" in (getattr(cell, "number_format", None) or "")
        ):
            value = Decimal(repr(value)) * 100
        values.append(value)
    return values


def parse_xlsx(content: bytes) -> ParsedFile:
    import warnings

    import openpyxl

    check_zip(content)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about unsupported extensions (data validation, styles) it skips.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(
                io.BytesIO(content), read_only=True, data_only=True, keep_links=False
            )
    except Exception:  # openpyxl raises many kinds for damaged files
        raise refuse(
            "The workbook could not be opened. Open it in Excel, save it again as an Excel "
            "Workbook (.xlsx) and upload it.",
            status_cls=UnreadableFile,
        ) from None
    if not book.worksheets:
        book.close()
        raise refuse("The workbook has no sheets. Put the data on the first sheet.")
    try:
        # Read whole now (the caps bound it), so no transaction waits on openpyxl and a
        # damaged sheet is refused here rather than half way through the checks.
        table = [_as_seen(row) for row in book.worksheets[0].iter_rows()]
    except Exception:  # openpyxl and the XML parser raise many kinds for damaged sheets
        raise refuse(
            "The first sheet of the workbook could not be read. Open it in Excel, save it "
            "again as an Excel Workbook (.xlsx) and upload it.",
            status_cls=UnreadableFile,
        ) from None
    finally:
        book.close()
    rows = iter(table)
    header = None
    header_row = 0
    for header_row, cells in enumerate(rows, start=1):  # noqa: B007 - used after the loop
        if any(c is not None and str(c).strip() for c in cells):
            header = list(cells)
            break
    if header is None:
        raise refuse("The first sheet of the workbook is empty. Put the data on the first sheet.")
    return read_table(header, enumerate(rows, start=header_row + 1), "xlsx")
