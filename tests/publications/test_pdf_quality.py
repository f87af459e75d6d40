"""The published PDF: figures in its text, tagged (PDF/UA-1), language, metadata, A4, fonts,
sound structure (qpdf) and byte-for-byte reproducibility."""

from __future__ import annotations

import shutil
import subprocess

import pikepdf
import pytest

from tests.publications.helpers import open_pdf, pdf_text, plan_item, render_item, struct_types


@pytest.fixture
def report(app, world):
    item = plan_item(world.q3)
    return item, render_item(item, app.config)


def test_the_text_contains_the_centres_figures_and_its_peers(report):
    _item, content = report
    text = " ".join(pdf_text(content).split())  # a narrow column may wrap a phrase
    assert "Centre A" in text
    assert "£4.12" in text  # its cost per invoice
    assert "£5.83" in text  # the peer median of five
    assert "82.5%" in text and "80.0%" in text  # a share against its target
    assert "Second quartile" in text
    assert "Improved" in text and "£4.50" in text  # the trend from 2026-Q2
    assert "Commentary of centre A." in text
    assert "Monthly close" in text and "Not disclosed" in text  # a group of two


def test_it_is_a_tagged_pdf_ua_document_with_language_title_and_author(report):
    item, content = report
    pdf = open_pdf(content)
    assert str(pdf.Root.Lang) == "en-GB"
    assert bool(pdf.Root.MarkInfo.Marked) is True
    types = struct_types(pdf)
    for tag in ("/Document", "/H1", "/H2", "/Table", "/TH", "/TD", "/Caption", "/Figure"):
        assert tag in types, f"{tag} missing from the structure tree"
    assert str(pdf.docinfo.Title) == item.title
    assert str(pdf.docinfo.Author) == "Test Accreditation Authority"
    with pdf.open_metadata() as xmp:
        assert xmp.get("pdfuaid:part") == "1"
    # Shown in the window title bar instead of the file name (PDF/UA 7.1).
    assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True


def test_charts_carry_a_text_alternative(report):
    pdf = open_pdf(report[1])
    alts = []

    def walk(node, depth=0):
        if depth > 200:
            return
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child, depth + 1)
        elif isinstance(node, pikepdf.Dictionary):
            if node.get("/S") == "/Figure":
                alts.append(str(node.get("/Alt", "")))
            if "/K" in node:
                walk(node.K, depth + 1)

    walk(pdf.Root.StructTreeRoot.K)
    assert alts and all(alts)
    assert any("Accounts payable cost per invoice: trend" in alt for alt in alts)


def test_pages_are_a4_and_fonts_are_the_bundled_ones_embedded(report):
    pdf = open_pdf(report[1])
    for page in pdf.pages:
        width, height = (float(v) for v in page.MediaBox[2:])
        assert width == pytest.approx(595.28, abs=0.5)
        assert height == pytest.approx(841.89, abs=0.5)
    fonts = [
        font
        for page in pdf.pages
        for font in page.Resources.Font.values()
        if "/DescendantFonts" in font
    ]
    assert fonts
    for font in fonts:
        descriptor = font.DescendantFonts[0].FontDescriptor
        # Only the @font-face family of report.css (bundled DejaVu Sans): no system fallback.
        assert str(descriptor.FontName).split("+")[1] in ("Report-Sans", "Report-Sans-Bold")
        assert "/FontFile2" in descriptor  # embedded, not referenced


def test_qpdf_finds_the_file_sound(report, tmp_path):
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.skip(
            "QPDF IS NOT INSTALLED: the structural check of published PDFs did not run. "
            "Install it with `apt-get install -y qpdf`."
        )
    path = tmp_path / "report.pdf"
    path.write_bytes(report[1])
    result = subprocess.run(  # noqa: S603 - our own file, qpdf found on PATH
        [qpdf, "--check", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout


def test_the_same_figures_give_byte_identical_files_dated_at_publication(app, report):
    item, content = report
    assert render_item(item, app.config) == content
    pdf = open_pdf(content)
    assert str(pdf.docinfo.CreationDate) == "D:20261127090000Z"
    assert str(pdf.docinfo.ModDate) == "D:20261127090000Z"


def test_the_league_table_ranks_each_metric(app, world):
    item = plan_item(world.q3, kind="league_table", subject="line:finance")
    text = pdf_text(render_item(item, app.config))
    assert "Accounts payable cost per invoice" in text
    # Lower is better: Centre C (£2.07) first, Centre D (£10.50) last.
    assert text.index("Centre C") < text.index("Centre A") < text.index("Centre D")
    assert "not ranked" in text  # the group of two
