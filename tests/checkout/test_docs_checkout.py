"""docs/checkout.md's worked examples are true: each ```python block runs, in order, in one namespace.

The blocks are found by their fences, so a new example is executed without touching this file;
every block after the set-up must assert something (an example that checks nothing proves nothing).
"""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "checkout.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text())


def test_every_worked_example_runs_and_asserts():
    # given the guide's Python blocks: the set-up, then one per rule
    blocks = _blocks()
    assert len(blocks) >= 12, "the guide lost examples"
    namespace: dict = {}
    for number, block in enumerate(blocks):
        # then each asserts something (after the set-up) and holds
        if number:
            assert "assert " in block, f"example {number} asserts nothing"
        exec(compile(block, f"{DOC.name} block {number}", "exec"), namespace)


def test_every_promotion_kind_and_reason_is_documented():
    from checkout.errors import NotAppliedReason
    from checkout.models import PromotionKind

    text = DOC.read_text()
    for kind in PromotionKind:
        assert f"### {kind.name}" in text
    for reason in NotAppliedReason:
        assert reason.value in text, f"{reason.value} is not explained in docs/checkout.md"
