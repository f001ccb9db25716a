"""README's picture of the tree names every feature folder of every layer, and only those."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("bot", "handlers", "storage")


def _picture() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", readme, re.S)
    assert len(blocks) == 1, "README holds one picture of the tree"
    return blocks[0]


def test_the_picture_names_every_folder_and_no_other() -> None:
    layers = "|".join(LAYERS)
    named = set(re.findall(rf"\b((?:{layers})/[a-z_]+)/", _picture()))
    on_disk = {
        f"{layer}/{folder.name}"
        for layer in LAYERS
        for folder in (ROOT / layer).iterdir()
        if folder.is_dir() and not folder.name.startswith(("_", "."))
    }
    assert named - on_disk == set(), "the picture names folders that no longer exist"
    assert on_disk - named == set(), "folders the picture leaves out"
