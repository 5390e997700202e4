"""Titles typeset over two lines in a PDF are one title, in one column and in two; two titles, or a title
and a line of another size under it, stay apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.render import BODY, FONT, GUTTER, MARGIN, PAGE_H, PAGE_W, PdfLayout, issue_sections, render_pdf
from index.parse import parse_issue
from index.types import Section

from conftest import BULLETINS, MAX_FILE_BYTES

LAYOUTS = {
    "1-column": PdfLayout(columns=1),
    "2-columns": PdfLayout(columns=2, title_size=13.0),
    "2-columns-centred": PdfLayout(columns=2, title_size=13.0, centre_titles=True),
}
ISSUE = BULLETINS / "2023-02-20.txt"


def _filling_title(layout: PdfLayout) -> str:
    """A one-line title as wide as its column (the line before a title wrapped at the column's edge)."""
    column = (PAGE_W - 2 * MARGIN - GUTTER * (layout.columns - 1)) / layout.columns
    return ("全区冬春季安全生产大检查工作部署会召开要求压实责任" * 3)[: int(column // layout.title_size)]


# the issue's titles as typeset, broken at their phrase (a "\n"), and as read: one line, without a space
WRAPPED = [
    (
        "全区便民核酸采样点2月20日起停止采样\n区人民医院保留核酸检测门诊",
        "全区便民核酸采样点2月20日起停止采样区人民医院保留核酸检测门诊",
    ),
    ("春季学期义务教育阶段转学申请3月3日截止", "春季学期义务教育阶段转学申请3月3日截止"),
    ("2023年度城乡居民基本养老保险开始缴费\n共设10个缴费档次", "2023年度城乡居民基本养老保险开始缴费共设10个缴费档次"),
    ("警惕！这四类电信网络诈骗最常见", "警惕！这四类电信网络诈骗最常见"),
    ("3路、12路公交恢复原线路\n18路延伸至昌润社区", "3路、12路公交恢复原线路18路延伸至昌润社区"),
    ("兴华路供水管道接驳施工\n2月23日部分区域停水", "兴华路供水管道接驳施工2月23日部分区域停水"),
    ("本供暖季3月15日结束\n暖气费补缴、退费这样办", "本供暖季3月15日结束暖气费补缴、退费这样办"),
    ("失业保险金网上申领\n符合这三个条件就能领", "失业保险金网上申领符合这三个条件就能领"),
]


def _issue(layout: PdfLayout, one_line: bool) -> list[Section]:
    """Titles broken by the typesetter at a phrase (in both columns of a two-column page), one-line titles,
    and a column-wide title of an article without a body right above another title."""
    bodies = [section.blocks for section in issue_sections(ISSUE)]
    sections = [Section(flat if one_line else typeset, body) for (typeset, flat), body in zip(WRAPPED, bodies)]
    return [*sections[:2], Section(_filling_title(layout), []), *sections[2:]]


@pytest.mark.parametrize("kind", LAYOUTS)
def test_a_title_wrapped_over_two_lines_is_one_title(tmp_path, kind):
    layout = LAYOUTS[kind]
    pdf = tmp_path / "2023-02-06.pdf"
    render_pdf(_issue(layout, one_line=False), pdf, layout)
    # the same issue as a text file: each title on one line, the same paragraphs
    text = tmp_path / "2023-02-06.txt"
    text.write_text("\n\n".join(f"# {s.title}\n\n" + "\n\n".join(s.blocks) for s in _issue(layout, True)), "utf-8")
    got, expected = parse_issue(pdf, MAX_FILE_BYTES), parse_issue(text, MAX_FILE_BYTES)
    assert [a.title for a in got.articles] == [flat for _, flat in WRAPPED]
    assert got.empty_titles == expected.empty_titles == [_filling_title(layout)]  # not glued to the next title
    assert [(a.title, a.body, a.source) for a in got.articles] == [
        (a.title, a.body, a.source) for a in expected.articles
    ]
    if layout.columns == 2:  # wrapped titles in both columns
        regions = {line.region for line in _title_lines(pdf, "全区便民核酸采样点", "兴华路供水管道")}
        assert regions == {"left", "right"}


def _title_lines(pdf: Path, *starts: str) -> list:
    from index.formats.pdf import _read_pages

    lines = [line for page in _read_pages(pdf.read_bytes(), pdf.name) for line in page]
    return [line for line in lines if line.text.startswith(starts)]


def test_a_line_of_another_size_under_a_title_stays_apart_and_latin_lines_join_with_a_space(tmp_path):
    """A 15 pt title with a 12.5 pt line just under it (title-sized, but another size: a deck or a lead
    line), beside 15 pt titles wrapped at a phrase, in Chinese and in English."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    pdf = canvas.Canvas(str(tmp_path / "2023-03-27.pdf"), pagesize=(PAGE_W, PAGE_H))
    y = PAGE_H - MARGIN

    def line(text: str, size: float, leading: float) -> None:
        nonlocal y
        pdf.setFont(FONT, size)
        pdf.drawString(MARGIN, y - size, text)
        y -= leading

    bus = [f"东昌府讯 第{n}行，区交通运输局对城乡公交线路加密班次，高峰时段每15分钟一班。" for n in range(4)]
    line("春运返程高峰", 15, 21)
    line("我区城乡公交加密班次", 15, 25)
    for text in bus:
        line(text, BODY, 16)
    y -= 12
    line("区图书馆恢复夜间开放", 15, 19)
    line("开放时间延长至每晚21:00", 12.5, 20)
    for n in range(4):
        line(f"东昌府讯 第{n}行，区图书馆自3月20日起恢复夜间开放，周一闭馆，欢迎市民前来。", BODY, 16)
    y -= 12
    line("Spring Festival Return Rush:", 15, 21)
    line("Extra Rural Bus Services", 15, 25)
    line("东昌府讯 春节后返程高峰期间，城乡公交线路加密班次。", BODY, 16)
    pdf.showPage()
    pdf.save()
    issue = parse_issue(tmp_path / "2023-03-27.pdf", MAX_FILE_BYTES)
    # lines as wide as each other run on as one paragraph
    assert (issue.articles[0].title, issue.articles[0].body) == ("春运返程高峰我区城乡公交加密班次", "".join(bus))
    titles = [a.title for a in issue.articles] + issue.empty_titles
    assert "区图书馆恢复夜间开放" in titles and "开放时间延长至每晚21:00" in titles  # two lines, two sizes
    assert issue.articles[-1].title == "Spring Festival Return Rush: Extra Rural Bus Services"
