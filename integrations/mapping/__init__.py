"""The mapping engine: build a connector action's input from a run context.

Pure Python (no Django), so the flow engine, the designer and the tests can
use it anywhere.
"""

from __future__ import annotations

from integrations.mapping.errors import MappingFailed, RuleError
from integrations.mapping.expressions import evaluate
from integrations.mapping.rules import (
    PreviewResult,
    Rule,
    apply_mapping,
    check_rules,
    preview,
)
from integrations.mapping.transforms import TRANSFORMS

__all__ = [
    "TRANSFORMS",
    "MappingFailed",
    "PreviewResult",
    "Rule",
    "RuleError",
    "apply_mapping",
    "check_rules",
    "evaluate",
    "preview",
]
