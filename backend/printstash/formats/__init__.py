"""The file kinds beyond plain-text G-code, as pure parsing (no database or HTTP), like gcode/:

- family(head, filename) -> Family | None       which reader a file's first bytes call for
- packages.kind_of(path, filename) -> KindName   which OPC/zip package it is (members checked)
- Broken                                         the file is damaged or unsafe (a 422)
"""

from printstash.formats.recognise import MODELS, SLICED, Broken, Family, KindName, family

__all__ = ["MODELS", "SLICED", "Broken", "Family", "KindName", "family"]
