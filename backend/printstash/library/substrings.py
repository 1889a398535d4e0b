"""What substring search compares: a file's name and a searched fragment, both folded here
in Python so that SQLite and PostgreSQL compare the very same text (neither database folds
case and accents like the other). Folding: NFKC, case folded, accents removed, every run
of characters other than letters and digits one space. `3DBenchy_v2.gcode` is kept as
`3dbenchy v2 gcode` (files.name_search, migration 0013); `benchy`, `chy_v2` and `BENCH` are
fragments of it.

A fragment needs at least MIN_FRAGMENT letters and digits: shorter ones cannot be looked up
in a trigram index (they would read every name), so they match word beginnings only, as
every search text does.
"""

import re
import unicodedata
from collections.abc import Sequence

MIN_FRAGMENT = 3
_WORD = re.compile(r"[^\W_]+")  # letters and digits


def name_text(text: str) -> str:
    """The folded form of a name (or of a searched fragment)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return " ".join(_WORD.findall(bare))


def fragment(words: Sequence[str]) -> str | None:
    """The folded fragment a chunk of search text looks for in names, None when too short."""
    folded = name_text(" ".join(words))
    return folded if len(folded.replace(" ", "")) >= MIN_FRAGMENT else None
