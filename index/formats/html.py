"""A news or public-account web page → Document: the main content, titles from h1–h3 or bold paragraphs.

BeautifulSoup (with lxml) and one stated rule rather than trafilatura: trafilatura's scoring is
tuned for a single article per page and drops short lines and headings it deems boilerplate, while
a bulletin page holds many articles whose headings are exactly what must be kept. The rule:
drop scripts, styles, navigation, headers, footers, asides, forms and blocks whose id or class says
comment, share, menu, sidebar, breadcrumb, advert or related; then the main content is the
public-account body (#js_content), else the <article> or <main> holding the most text, else the
element whose own paragraphs hold the most text.
"""

from __future__ import annotations

import hashlib
import re

from index.formats.docx import CELL_SEPARATOR, MAX_BOLD_TITLE_CHARS
from index.types import BulletinError, Document, Section

DROPPED_TAGS = ["script", "style", "noscript", "template", "iframe", "nav", "header", "footer", "aside", "form"]
BOILERPLATE = re.compile(r"comment|share|menu|sidebar|breadcrumb|advert|related|recommend|toolbar|footer|nav", re.I)
TITLE_TAGS = {"h1", "h2", "h3"}
BLOCK_TAGS = {"p", "li", "blockquote", "pre", "dd", "dt", "h4", "h5", "h6", "figcaption", "section", "div", "td"}
CONTAINER_TAGS = {"div", "section", "article", "main", "ul", "ol", "dl", "center", "body", "blockquote", "li"}
SENTENCE_END = "。！？；：:;!?"
SPACES = re.compile(r"[ \t\u00a0]+")
# Text a browser does not show is not the bulletin's: '<span style="display:none">请访问 http://… 领取补贴</span>'
# was indexed and shown in 原文.
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _text(element) -> str:
    """An element's text with its source line breaks removed (they are not in the rendered page)."""
    # lines stripped and joined, not re.sub(r"\s*\n\s*"): that pattern is quadratic on a long run of blanks
    text = "".join(line.strip() for line in element.get_text("").split("\n"))
    return SPACES.sub(" ", text).strip()


def _main_content(soup):
    """The element holding the page's articles, by the rule in the module docstring."""
    wechat = soup.find(id="js_content")
    if wechat is not None:
        return wechat
    marked = soup.find_all(["article", "main"])
    if marked:
        return max(marked, key=lambda e: len(_text(e)))
    holders = [p.parent for p in soup.find_all("p") if p.parent is not None]
    if not holders:
        return soup.body or soup
    return max(set(holders), key=lambda e: sum(len(_text(p)) for p in e.find_all("p", recursive=False)))


def _is_bold_title(element, text: str) -> bool:
    """A short paragraph whose text is all inside <strong>/<b> and does not end like a sentence."""
    bold = "".join(_text(b) for b in element.find_all(["strong", "b"]))
    return (
        bool(text)
        and bold.replace(" ", "") == text.replace(" ", "")
        and len(text) <= MAX_BOLD_TITLE_CHARS
        and (text[-1] not in SENTENCE_END)
    )


def _holds_structure(root) -> set[int]:
    """The ids of the elements under root that contain a title, block or table: computed once, children
    before parents (a find() per container was quadratic: 5,000 nested <article> took 61 s)."""
    order, stack = [], [root]
    while stack:
        element = stack.pop()
        order.append(element)
        stack.extend(c for c in element.children if getattr(c, "name", None) is not None)
    wanted = TITLE_TAGS | BLOCK_TAGS | {"table"}
    holding: set[int] = set()
    for element in reversed(order):
        parent = element.parent
        if parent is not None and (element.name in wanted or id(element) in holding):
            holding.add(id(parent))
    return holding


def _walk(root, out: list[tuple[str, str]]) -> None:
    """Collect ('title' | 'block', text) items in document order; iterative, so no page is too deep
    (1,200 nested <div>s raised RecursionError)."""
    holding = _holds_structure(root)
    stack = [iter(root.children)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        name = getattr(child, "name", None)
        if name is None:  # text directly inside a container
            text = " ".join(str(child).split())
            if text:
                out.append(("block", text))
        elif name in TITLE_TAGS:
            out.append(("title", _text(child)))
        elif name == "table":
            rows = [
                CELL_SEPARATOR.join(t for cell in row.find_all(["td", "th"]) if (t := _text(cell)))
                for row in child.find_all("tr")
            ]
            out.append(("block", "\n".join(r for r in rows if r)))
        elif name in CONTAINER_TAGS and id(child) in holding:
            stack.append(iter(child.children))
        elif name in BLOCK_TAGS or name in CONTAINER_TAGS:
            text = _text(child)
            out.append(("title" if _is_bold_title(child, text) else "block", text))
        else:  # inline markup (span, a, strong) directly in a container: part of the running text
            text = _text(child)
            if text:
                out.append(("block", text))


def _is_hidden(tag) -> bool:
    """Hidden by an inline style, the hidden attribute or aria-hidden."""
    attrs = tag.attrs or {}
    style = attrs.get("style")
    return (
        "hidden" in attrs
        or str(attrs.get("aria-hidden", "")).lower() == "true"
        or (isinstance(style, str) and HIDDEN_STYLE.search(style) is not None)
    )


def html_document(raw: bytes, name: str) -> Document:
    """A web page as a Document; a page with no titled article in its main content is refused."""
    from bs4 import BeautifulSoup  # imported only for web pages

    soup = BeautifulSoup(raw, "lxml")
    page_title = _text(soup.title) if soup.title else ""
    for tag in soup.find_all(DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_hidden):
        if not tag.decomposed:
            tag.decompose()
    for tag in soup.find_all(class_=BOILERPLATE) + soup.find_all(id=BOILERPLATE):
        if not tag.decomposed and tag.get("id") != "js_content":
            tag.decompose()
    main = _main_content(soup)
    items: list[tuple[str, str]] = []
    _walk(main, items)
    if items and items[0][0] != "title":
        # an article page often sets its headline above the content element: the nearest h1–h3 before it
        headline = main.find_previous(list(TITLE_TAGS))
        if headline is not None:
            items.insert(0, ("title", _text(headline)))
    sections: list[Section] = []
    for kind, text in items:
        if kind == "title" and text:
            sections.append(Section(text, []))
        elif sections and text:
            sections[-1].blocks.append(text)
    if not sections or not any(s.blocks for s in sections):
        raise BulletinError(
            f"{name}: no article found in the page (its main content has no h1–h3 or bold title paragraph "
            "followed by text)"
        )
    return Document(kind="html", content_hash=hashlib.sha256(raw).hexdigest(), sections=sections, masthead=page_title)
