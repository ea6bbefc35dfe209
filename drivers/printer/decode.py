"""Read an ESC/POS byte stream back: the commands we send, the raster images in it.

The fake printer parses its input with this (a real printer treats DLE EOT as a real-time
command even between other commands, but never inside a raster block's data), and tests use
it to turn the printed bytes back into the picture and compare it with the preview.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, DLE, EOT, LF = 0x1B, 0x1D, 0x10, 0x04, 0x0A


@dataclass(frozen=True)
class Command:
    # init feed align spacing style raster graphics column code2d cut status text other
    kind: str
    args: tuple[int, ...] = ()
    data: bytes = b""


@dataclass
class EscposStream:
    """Incremental parser: ``feed`` bytes as they arrive, get the complete commands back."""

    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[Command]:
        self._buf += data
        out: list[Command] = []
        while self._buf:
            cmd, used = _parse_one(bytes(self._buf[:16]), self._buf)
            if used == 0:
                break  # incomplete: wait for more bytes
            del self._buf[:used]
            out.append(cmd)
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)


def parse(data: bytes) -> list[Command]:
    stream = EscposStream()
    cmds = stream.feed(data)
    if stream.pending:
        raise ValueError(f"{stream.pending} bytes of an incomplete command at the end")
    return cmds


def _need(buf: bytearray, n: int) -> bool:
    return len(buf) >= n


def _parse_one(head: bytes, buf: bytearray) -> tuple[Command, int]:
    b0 = head[0]
    if b0 == DLE:
        if not _need(buf, 3):
            return Command("other"), 0
        if head[1] == EOT:
            return Command("status", (head[2],)), 3
        return Command("other", (b0,)), 1
    if b0 == ESC:
        if not _need(buf, 2):
            return Command("other"), 0
        c = head[1]
        if c == ord("@"):
            return Command("init"), 2
        if c in (ord("d"), ord("a"), ord("3"), ord("E"), ord("!")):
            if not _need(buf, 3):
                return Command("other"), 0
            kind = {ord("d"): "feed", ord("a"): "align", ord("3"): "spacing"}.get(c, "style")
            return Command(kind, (head[2],)), 3
        if c == ord("2"):
            return Command("spacing", (-1,)), 2
        if c == ord("*"):
            if not _need(buf, 5):
                return Command("other"), 0
            m, width = head[2], head[3] | head[4] << 8
            size = width * (3 if m in (32, 33) else 1)
            if not _need(buf, 5 + size):
                return Command("other"), 0
            return Command("column", (m, width), bytes(buf[5 : 5 + size])), 5 + size
        return Command("other", (b0, c)), 2
    if b0 == GS:
        if not _need(buf, 2):
            return Command("other"), 0
        c = head[1]
        if c == ord("v"):
            if not _need(buf, 8):
                return Command("other"), 0
            m = head[3]
            xb = head[4] | head[5] << 8
            y = head[6] | head[7] << 8
            size = xb * y
            if not _need(buf, 8 + size):
                return Command("other"), 0
            return Command("raster", (m, xb, y), bytes(buf[8 : 8 + size])), 8 + size
        if c == ord("(") and _need(buf, 3) and head[2] in (ord("L"), ord("k")):
            if not _need(buf, 5):
                return Command("other"), 0
            size = head[3] | head[4] << 8
            if not _need(buf, 5 + size):
                return Command("other"), 0
            kind = "graphics" if head[2] == ord("L") else "code2d"
            return Command(kind, (), bytes(buf[5 : 5 + size])), 5 + size
        if c == ord("V"):
            if not _need(buf, 3):
                return Command("other"), 0
            m = head[2]
            if m in (65, 66):
                if not _need(buf, 4):
                    return Command("other"), 0
                return Command("cut", (m, head[3])), 4
            return Command("cut", (m,)), 3
        return Command("other", (b0, c)), 2
    # plain text up to the next control byte
    end = 1
    while end < len(buf) and buf[end] not in (ESC, GS, DLE):
        end += 1
    return Command("text", (), bytes(buf[:end])), end


def raster_image(cmd: Command) -> object:
    """The PIL image (mode "1", black ink = 0) of a GS v 0 raster command."""
    from PIL import Image, ImageOps

    if cmd.kind != "raster":
        raise ValueError(f"not a raster command: {cmd.kind}")
    _, xb, y = cmd.args
    ink = Image.frombytes("1", (xb * 8, y), cmd.data)  # 1 = dot burned = black
    return ImageOps.invert(ink.convert("L")).convert("1")


def printed_image(data: bytes) -> object:
    """Every raster block of a job stacked top to bottom, as the paper would show it."""
    from PIL import Image

    parts = [raster_image(c) for c in parse(data) if c.kind == "raster"]
    if not parts:
        raise ValueError("no raster image in the job")
    width = max(p.width for p in parts)  # type: ignore[attr-defined]
    height = sum(p.height for p in parts)  # type: ignore[attr-defined]
    page = Image.new("1", (width, height), 1)
    top = 0
    for p in parts:
        page.paste(p, (0, top))  # type: ignore[arg-type]
        top += p.height  # type: ignore[attr-defined]
    return page
