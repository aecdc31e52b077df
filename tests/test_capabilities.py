"""The capability table is the one source of the matrix's expectations and of docs/capabilities.md."""

from __future__ import annotations

from pathlib import Path

import pytest

import unit_init as ui
from unit_init.capabilities import expected_error, is_random, markdown

PAGE = Path(__file__).parent.parent / "docs" / "capabilities.md"


def test_docs_page_is_generated_from_the_table() -> None:
    assert PAGE.read_text(encoding="utf-8") == markdown(), "run: python -m unit_init.capabilities > docs/capabilities.md"


def test_table_answers() -> None:
    assert expected_error("he_normal", "torch", "int32") is ui.DTypeError
    assert expected_error("zeros", "torch", "int32") is None
    assert expected_error("he_normal", "array_api_strict", "bfloat16") is ui.DTypeError
    assert expected_error("he_normal", "torch", "float64", device_kind="mps") is ui.DTypeError
    assert expected_error("he_normal", "torch", "float64", device_kind="cuda") is None
    assert is_random("orthogonal")
    assert not is_random("identity")


@pytest.mark.parametrize(
    ("name", "random"),
    [("xavier_normal", True), ("delta_orthogonal", True), ("uniform_scaling", True), ("stft", False), ("eye", False), ("zer_o", False)],
)
def test_every_registered_name_has_a_capability_answer(name: str, random: bool) -> None:
    """Names beyond the catalogue (torch spellings, peers' kernels, scaled families) are answered, not a KeyError."""
    assert is_random(name) is random
    assert expected_error(name, "numpy", "int32") is (ui.DTypeError if random else None)
