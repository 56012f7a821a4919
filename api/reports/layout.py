"""The PDF page an inspector reads: a title block, sections, tables, a chart, page numbers.

Built on fpdf2 (pure Python; installs on a Raspberry Pi) with DejaVu Sans Condensed embedded (shipped in
``api/reports/fonts/`` with its licence; about Helvetica's width, so the tables keep their columns), so κ, τ,
µ, ≥ and − print as written; fpdf2 embeds only the glyphs a report uses. Text goes through
:meth:`Report.drawable`, which turns the few characters the font lacks (CJK, for one) into '?' rather than
failing the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from monitor.timestamps import format_utc, to_datetime

FONT_DIR = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
# fpdf2 style -> file: regular, bold, italic (the emphasis our pages use).
_FONT_FILES = (
    ("", "DejaVuSansCondensed.ttf"),
    ("B", "DejaVuSansCondensed-Bold.ttf"),
    ("I", "DejaVuSansCondensed-Oblique.ttf"),
)


def local_time(ts: float | None, utc_offset_seconds: float, *, seconds: bool = False) -> str:
    if ts is None:
        return "-"
    pattern = "%Y-%m-%d %H:%M" + (":%S" if seconds else "")
    local = to_datetime(ts, utc_offset_seconds)
    return format_utc(ts, pattern + " UTC") if local is None else local.strftime(pattern)


def zone_name(utc_offset_seconds: float) -> str:
    minutes = round(utc_offset_seconds / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def number(value: float | None, digits: int, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" + (f" {unit}" if unit else "")


class Report(FPDF):
    """An A4 report with a running footer: title, generation time, page x of y."""

    def __init__(self, title: str, generated_at: float) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        for style, name in _FONT_FILES:
            self.add_font(FAMILY, style, FONT_DIR / name)
        faces = [self.fonts[f"{FAMILY.lower()}{style}"] for style, _ in _FONT_FILES]
        # The code points every face draws.
        self.covered = frozenset.intersection(*(frozenset(f.cmap) for f in faces if isinstance(f, TTFFont)))
        self.report_title = self.drawable(title)
        self.generated = format_utc(generated_at, "%Y-%m-%d %H:%M UTC")
        self.set_title(self.report_title)
        self.set_author("vialguard")
        self.set_creator("vialguard")
        self.set_auto_page_break(auto=True, margin=16)
        self.alias_nb_pages()
        self.add_page()

    def drawable(self, text: str) -> str:
        """``text`` with any character the embedded font cannot draw replaced by '?' (line breaks kept)."""
        return "".join(c if ord(c) in self.covered or c in "\n\r\t" else "?" for c in text)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(80, 80, 80)
        self.cell(0, 5, f"{self.report_title} - generated {self.generated} by vialguard", align="L")
        self.cell(0, 5, f"page {self.page_no()} of {{nb}}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str, sub: str = "") -> None:
        self.set_font(FAMILY, "B", 16)
        self.set_text_color(0, 0, 0)
        self.cell(0, 9, self.drawable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if sub:
            self.set_font(FAMILY, "", 10)
            self.multi_cell(0, 5, self.drawable(sub), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def section(self, text: str) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.set_font(FAMILY, "B", 12)
        self.set_text_color(16, 60, 120)
        self.cell(0, 7, self.drawable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(16, 60, 120)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)
        self.set_text_color(0, 0, 0)

    def paragraph(self, text: str) -> None:
        self.set_font(FAMILY, "", 9)
        self.multi_cell(0, 4.5, self.drawable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def facts(self, pairs: Sequence[tuple[str, str]]) -> None:
        for term, value in pairs:
            self.set_font(FAMILY, "", 9.5)
            self.cell(70, 5, self.drawable(term))
            self.set_font(FAMILY, "B", 9.5)
            self.multi_cell(0, 5, self.drawable(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(
        self, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], empty: str
    ) -> None:
        """A table with a heading row repeated on each page; ``empty`` says why there are no rows."""
        if not rows:
            self.set_font(FAMILY, "I", 9)
            self.cell(0, 5, self.drawable(empty), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        self.set_font(FAMILY, "", 8)
        with self.table(
            col_widths=tuple(widths),
            line_height=4.2,
            headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 240)),
            first_row_as_headings=True,
            repeat_headings=1,
        ) as table:
            for row in [headings, *rows]:
                r = table.row()
                for value in row:
                    r.cell(self.drawable(value))

    def chart(
        self,
        points: Sequence[tuple[float, float]],
        *,
        y_min: float,
        y_max: float,
        lines: Sequence[tuple[float, str]],
        x_labels: tuple[str, str],
        y_unit: str,
        height: float = 55.0,
    ) -> None:
        """A line chart of ``points`` (x, y) with dashed horizontal reference lines."""
        if len(points) < 2:
            return
        if self.get_y() + height + 10 > self.h - 16:
            self.add_page()
        left, top = self.l_margin + 12, self.get_y() + 2
        width = self.w - self.r_margin - left
        x0, x1 = points[0][0], points[-1][0]
        span_x = (x1 - x0) or 1.0
        span_y = (y_max - y_min) or 1.0

        def at(x: float, y: float) -> tuple[float, float]:
            return left + (x - x0) / span_x * width, top + height - (y - y_min) / span_y * height

        self.set_draw_color(150, 150, 150)
        self.set_line_width(0.2)
        self.rect(left, top, width, height)
        self.set_font(FAMILY, "", 7)
        for value in (y_min, (y_min + y_max) / 2, y_max):
            _, y = at(x0, value)
            self.text(self.l_margin, y + 1, self.drawable(f"{value:.1f}{y_unit}"))
        for value, label in lines:
            if y_min <= value <= y_max:
                _, y = at(x0, value)
                self.set_draw_color(180, 40, 30)
                self.set_dash_pattern(dash=1.5, gap=1.2)
                self.line(left, y, left + width, y)
                self.set_dash_pattern()
                self.text(left + 1, y - 0.8, self.drawable(label))
        self.set_draw_color(10, 10, 10)
        self.set_line_width(0.5)
        self.polyline([at(x, y) for x, y in points])
        self.set_line_width(0.2)
        self.text(left, top + height + 4, self.drawable(x_labels[0]))
        end_label = self.drawable(x_labels[1])
        self.text(left + width - self.get_string_width(end_label), top + height + 4, end_label)
        self.set_y(top + height + 7)
