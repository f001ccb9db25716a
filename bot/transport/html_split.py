"""Split Telegram HTML into messages of at most 4096 characters without breaking a tag.

Cuts fall after a line break where possible. A tag open at a cut is closed at the end of one
part and opened again at the start of the next, so each part parses on its own. Lengths count
markup too, which keeps every part safely under Telegram's limit on the visible text.
"""

from __future__ import annotations

import re

LIMIT = 4096
_TOKEN = re.compile(r"<[^<>]*>|&#?[a-zA-Z0-9]+;|\n|[^<&\n]+|[<&]")

Tag = tuple[str, str]  # (name, the opening tag as written)


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Return ``text`` as parts of at most ``limit`` characters, markup included."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    tokens = _tokens(text, max_run=limit // 4)
    while tokens:
        cut, open_at_cut = _best_cut(tokens, limit)
        body = "".join(tokens[:cut]).rstrip("\n")
        parts.append(body + _closing(open_at_cut))
        tokens = [tag for _, tag in open_at_cut] + tokens[cut:]
        while tokens and tokens[0] == "\n":
            tokens.pop(0)
        if len("".join(tokens)) <= limit:
            rest = "".join(tokens)
            if rest.strip():
                parts.append(rest)
            break
    return parts


def _best_cut(tokens: list[str], limit: int) -> tuple[int, list[Tag]]:
    """The largest cut that fits, preferring one just after a newline."""
    stack: list[Tag] = []
    size = 0
    best: tuple[int, list[Tag]] | None = None
    after_newline: tuple[int, list[Tag]] | None = None
    for index, token in enumerate(tokens):
        trial = list(stack)
        _track(token, trial)
        if size + len(token) + len(_closing(trial)) > limit:
            break
        size += len(token)
        stack = trial
        best = (index + 1, list(stack))
        if token == "\n":
            after_newline = best
    if best is None:  # a single token longer than the limit cannot happen: runs are chopped
        raise ValueError("cannot split: opening tags alone exceed the limit")
    return after_newline if after_newline and after_newline[0] > 1 else best


def _tokens(text: str, max_run: int) -> list[str]:
    """Tags, entities, newlines and text runs, with long runs chopped to ``max_run``."""
    pieces: list[str] = []
    for token in _TOKEN.findall(text):
        if token[0] in "<&" or len(token) <= max_run:
            pieces.append(token)
        else:
            pieces.extend(token[i : i + max_run] for i in range(0, len(token), max_run))
    return pieces


def _track(token: str, stack: list[Tag]) -> None:
    if len(token) < 3 or not token.startswith("<") or token.endswith("/>"):
        return
    if token.startswith("</"):
        name = token[2:-1].strip().lower()
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == name:
                del stack[i]
                break
    else:
        stack.append((token[1:-1].split()[0].lower(), token))


def _closing(stack: list[Tag]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))
