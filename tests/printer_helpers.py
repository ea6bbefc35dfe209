"""Typed wrappers around drivers.printer.decode for the tests."""

from __future__ import annotations

from typing import cast

from PIL import Image

from drivers.printer import decode


def printed_image(data: bytes) -> Image.Image:
    """The paper a job prints. drivers' own printed_image is annotated ``-> object`` (PIL is
    imported lazily there), but what it returns is a PIL image."""
    return cast(Image.Image, decode.printed_image(data))
