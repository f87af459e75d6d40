"""Finishing WeasyPrint's structure tree: every table header cell says what it heads.

PDF/UA-1 (ISO 14289-1, 7.5) asks that a table's header cells be associated with its data
cells, through /Scope on each /TH or /Headers on each /TD. WeasyPrint (70) writes /Headers on
the /TD cells but leaves the /TH cells without a /Scope, even where the HTML says
scope="col" or scope="row", so checkers (pdfua's UA-15-003) cannot tell a column header from a
row header. This pass adds /Scope to each /TH's table attributes, from where the cell sits —
the same rule as the reports' HTML, which WeasyPrint's tags do not carry over:

- a header cell in a /THead, or in a row of header cells only, heads its column (/Column);
- a header cell in a row that also holds data cells heads its row (/Row).

It runs in the render child on the bytes WeasyPrint wrote, changes nothing else, and saves
with a deterministic /ID, so the same document still gives the same bytes.
"""

from __future__ import annotations

import io

import pikepdf

MAX_DEPTH = 200  # the structure tree of a report is a few levels deep; a cycle stops here


def _kids(node: pikepdf.Dictionary) -> list:
    if "/K" not in node:
        return []
    kids = node.K
    if isinstance(kids, pikepdf.Array):
        return [kid for kid in kids if isinstance(kid, pikepdf.Dictionary)]
    return [kids] if isinstance(kids, pikepdf.Dictionary) else []


def _role(node: pikepdf.Dictionary) -> str:
    return str(node.get("/S", ""))


def _table_attributes(cell: pikepdf.Dictionary) -> pikepdf.Dictionary:
    """The cell's attribute dictionary owned by /Table, made if it has none."""
    attributes = cell.get("/A")
    candidates = attributes if isinstance(attributes, pikepdf.Array) else [attributes]
    for candidate in candidates:
        if isinstance(candidate, pikepdf.Dictionary) and candidate.get("/O") == "/Table":
            return candidate
    table = pikepdf.Dictionary(O=pikepdf.Name("/Table"))
    if attributes is None:
        cell.A = table
    elif isinstance(attributes, pikepdf.Array):
        attributes.append(table)
    else:
        cell.A = pikepdf.Array([attributes, table])
    return table


def _scope_row(row: pikepdf.Dictionary, in_head: bool) -> int:
    cells = [kid for kid in _kids(row) if _role(kid) in ("/TH", "/TD")]
    column = in_head or all(_role(cell) == "/TH" for cell in cells)
    scoped = 0
    for cell in cells:
        if _role(cell) == "/TH":
            attributes = _table_attributes(cell)
            if "/Scope" not in attributes:
                attributes.Scope = pikepdf.Name("/Column" if column else "/Row")
                scoped += 1
    return scoped


def _walk(node: pikepdf.Dictionary, depth: int, in_head: bool, seen: set) -> int:
    if depth > MAX_DEPTH or (node.objgen in seen and node.objgen != (0, 0)):
        return 0
    seen.add(node.objgen)
    role = _role(node)
    if role == "/TR":
        return _scope_row(node, in_head)
    in_head = in_head or role == "/THead"
    return sum(_walk(kid, depth + 1, in_head, seen) for kid in _kids(node))


def scope_table_headers(content: bytes) -> bytes:
    """The PDF with /Scope on every table header cell; unchanged bytes if it has no tables."""
    with pikepdf.open(io.BytesIO(content)) as pdf:
        root = pdf.Root.get("/StructTreeRoot")
        if root is None:
            return content
        scoped = sum(_walk(kid, 0, False, set()) for kid in _kids(root))
        if not scoped:
            return content
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()
