"""Long messages are split for Telegram without breaking HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.transport.html_split import split_html


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()


def _balanced(part: str) -> bool:
    parser = _Balance()
    parser.feed(part)
    parser.close()
    return not parser.stack


def _visible(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("短消息", id="short"),
        pytest.param("\n".join(f"第{i}行 <b>加粗 &amp; 内容</b>" for i in range(900)), id="lines"),
        pytest.param("<b>" + "\n".join("甲" * 80 for _ in range(200)) + "</b>", id="tag-spans"),
        pytest.param("<pre>" + "x" * 12000 + "</pre>", id="one-long-line"),
        pytest.param('<a href="https://e.example/x">' + "链" * 5000 + "</a>", id="link"),
    ],
)
def test_split_html_parts_fit_and_stay_well_formed(text: str) -> None:
    parts = split_html(text)
    assert all(len(part) <= 4096 for part in parts)
    assert all(_balanced(part) for part in parts)
    assert "".join(_visible(p) for p in parts).replace("\n", "") == _visible(text).replace(
        "\n", ""
    )


def test_split_html_prefers_line_boundaries() -> None:
    text = "\n".join(f"行{i:04d}" + "字" * 40 for i in range(300))
    parts = split_html(text)
    assert len(parts) > 1
    assert all(part.split("\n")[-1].startswith("行") for part in parts)
    assert all(len(line) == 45 for part in parts for line in part.split("\n"))


def test_split_html_never_cuts_an_entity() -> None:
    text = "&amp;" * 3000
    for part in split_html(text):
        assert re.fullmatch(r"(&amp;)+", part)
