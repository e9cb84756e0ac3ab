"""mkdocs hooks: the theme prints config values without escaping (mkdocs does not autoescape), so the editor's
site-wide texts arrive escaped; and every Markdown table is made to fit a 375 px phone without JavaScript."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from markupsafe import escape

TEXTS = ("site_name", "site_description", "copyright")
# Python-Markdown's tables: a bare <table> (the printable 一次性告知单's own table has a class and is left alone).
TABLE = re.compile(r"<table>(.*?)</table>", re.S)
HEAD_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
CELL = re.compile(r"<td\b")
TAG = re.compile(r"<[^>]+>")
# Up to this many columns a table becomes stacked cards on a phone (portal.css); wider ones (the 政务公开 matrix)
# scroll sideways in a region of their own, with a visible hint.
CARD_COLUMNS = 8


def on_config(config: Any) -> Any:
    """Mark the editor's texts as escaped HTML: a bare `{{ }}` prints them safely and `| e` does not escape twice."""
    for key in TEXTS:
        if config[key]:
            config[key] = escape(config[key])
    return config


def _table(match: re.Match[str]) -> str:
    """One table, wrapped; in a card table every cell carries its column's name for the phone layout."""
    body = match.group(1)
    head = body.split("</thead>", 1)[0]
    labels = [str(escape(unescape(TAG.sub("", cell)).strip())) for cell in HEAD_CELL.findall(head)]
    if len(labels) > CARD_COLUMNS:
        return (
            '<div class="rs-table rs-table--wide">'
            '<p class="rs-table__hint" aria-hidden="true">表格较宽，可左右滑动查看</p>'
            '<div class="rs-table__scroll" role="region" aria-label="表格，可左右滑动" tabindex="0">'
            f"<table>{body}</table></div></div>"
        )

    def row(found: re.Match[str]) -> str:
        names = iter(labels)
        return "<tr>" + CELL.sub(lambda _: f'<td data-label="{next(names, "")}"', found.group(1)) + "</tr>"

    return f'<div class="rs-table rs-table--cards"><table>{ROW.sub(row, body)}</table></div>'


def on_page_content(html: str, **_: Any) -> str:
    """Wrap every Markdown table for the phone layout (see CARD_COLUMNS)."""
    return TABLE.sub(_table, html) if "<table>" in html else html
