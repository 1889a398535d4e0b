"""Final fields: what the slicer wrote wins; the full-file pass fills what it left out."""

from typing import Any

from printstash.gcode.types import FullFacts, GcodeMetadata

# Full-scan facts that may fill a gap in the header fields (header name -> facts name).
_FILL = {"layer_count": "layer_count", "object_height": "max_z", "objects": "objects"}
# Facts only the full pass knows; always reported.
_FACTS_ONLY = ("max_z", "tool_changes")


def merge(meta: GcodeMetadata, facts: FullFacts) -> dict[str, Any]:
    fields = dict(meta.fields)
    for name, fact in _FILL.items():
        if fields.get(name) is None and facts.fields.get(fact) is not None:
            fields[name] = facts.fields[fact]
    for name in _FACTS_ONLY:
        if name in facts.fields:
            fields[name] = facts.fields[name]
    if facts.fields.get("tools") and not fields.get("referenced_tools"):
        fields["tools_used"] = facts.fields["tools"]
    return fields
