"""A wrong set-up file is shown where the clerk is looking, not only in a log nobody reads.

The board and the lookup terminal fill the screen with the error in Vietnamese (drawn with
Pillow straight into the Linux framebuffer: no X, no SDL, works on a Pi's HDMI and on QEMU's
virtio-gpu alike), the dispenser prints it on a ticket, the counter's LED board shows ``CFG``
and its buzzer beeps. Every way that has no device here is skipped: the others still run.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.errors import DeviceError, MotcuaError
from appliance.i18n import tr

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

TITLE = "Tệp cài đặt motcua-setup.toml chưa đúng"
TITLE_EN = "The set-up file motcua-setup.toml is not right"
HOWTO = ("Tắt máy, cắm thẻ nhớ vào máy tính, sửa tệp motcua-setup.toml theo các dòng dưới "
         "đây, rồi cắm lại và bật máy. / Power off, fix the file on the card as the lines "
         "below say, put it back and power on.")
KDSETMODE = 0x4B3A
KD_GRAPHICS = 1


def error_lines(problems: list[str]) -> list[str]:
    return [TITLE, TITLE_EN, HOWTO, *problems]


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}".strip()
            if line and draw.textlength(trial, font=font) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def render_error(problems: list[str], size: tuple[int, int], *,
                 background: str = "#8b0000", ink: str = "white") -> Image.Image:
    """The error as a full picture: title large, then every problem, wrapped to the width."""
    from PIL import Image, ImageDraw, ImageFont

    from display.fonts import font_path, nfc

    w, h = size
    img = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(img)
    big = ImageFont.truetype(str(font_path(bold=True)), max(16, h // 14))
    small = ImageFont.truetype(str(font_path()), max(12, h // 30))
    margin = w // 24
    y = margin
    for i, text in enumerate(error_lines(problems)):
        font = big if i == 0 else small
        for line in _wrap(draw, nfc(text), font, w - 2 * margin):
            if y > h - margin:
                return img
            draw.text((margin, y), line, font=font, fill=ink)
            y += int(font.size * 1.3)
        y += int(small.size * 0.5)
    return img


class Framebuffer:
    """/dev/fbN as the kernel describes it in /sys/class/graphics/fbN."""

    def __init__(self, device: Path = Path("/dev/fb0"),
                 sysfs: Path = Path("/sys/class/graphics/fb0")) -> None:
        self.device = device
        self.sysfs = sysfs

    def _read(self, name: str) -> str:
        return (self.sysfs / name).read_text().strip()

    def geometry(self) -> tuple[int, int, int, int]:
        """(width, height, bits per pixel, bytes per line)."""
        w, h = (int(v) for v in self._read("virtual_size").split(","))
        bpp = int(self._read("bits_per_pixel"))
        stride = int(self._read("stride")) if (self.sysfs / "stride").exists() else w * bpp // 8
        return w, h, bpp, stride

    def show(self, image: Image.Image) -> None:
        w, h, bpp, stride = self.geometry()
        rgb = image.convert("RGB").resize((w, h))
        if bpp == 32:
            row_bytes = rgb.tobytes("raw", "BGRX")
            bpp_bytes = 4
        elif bpp == 16:
            row_bytes = rgb.tobytes("raw", "BGR;16")
            bpp_bytes = 2
        else:
            raise DeviceError(tr(f"{self.device}: chưa hỗ trợ {bpp} bit mỗi điểm ảnh",
                                   f"{self.device}: {bpp} bits per pixel is not supported"))
        line = w * bpp_bytes
        pad = b"\0" * (stride - line)
        data = b"".join(row_bytes[y * line:(y + 1) * line] + pad for y in range(h))
        with open(self.device, "r+b", buffering=0) as fb:
            fb.write(data)


def quiet_console(tty: Path = Path("/dev/tty0")) -> None:
    """Stop the text console drawing over the picture (a login prompt, kernel messages)."""
    try:
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return
    try:
        fcntl.ioctl(fd, KDSETMODE, KD_GRAPHICS)
    except OSError as exc:
        log.debug("%s: cannot switch to graphics mode: %s", tty, exc)
    finally:
        os.close(fd)


def show_on_screen(problems: list[str], fb: Framebuffer | None = None) -> bool:
    fb = fb or Framebuffer()
    if not fb.device.exists():
        return False
    try:
        w, h, _, _ = fb.geometry()
        quiet_console()
        fb.show(render_error(problems, (w, h)))
    except (OSError, ValueError, DeviceError) as exc:
        log.warning(tr("không hiện được lỗi cài đặt lên %s: %s",
                       "cannot show the set-up error on %s: %s"), fb.device, exc)
        return False
    return True


def ticket_job(problems: list[str], width: int = 576) -> bytes:
    """ESC/POS bytes that print the error: black on white, as long as the text needs."""
    from PIL import ImageOps

    from drivers.printer import build_job

    tall = render_error(problems, (width, width * 3), background="white", ink="black")
    gray = tall.convert("L")
    bottom = (ImageOps.invert(gray).getbbox() or (0, 0, width, width))[3]
    return build_job(gray.crop((0, 0, width, min(tall.height, bottom + 40))))

def print_ticket(problems: list[str], dispenser: dict[str, Any] | None,
                 open_link: Callable[[dict[str, Any] | None], Any] | None = None) -> bool:
    """Print the error on the dispenser's printer, as far as the file names one."""
    link = (open_link or _printer_link)(dispenser)
    if link is None:
        return False
    try:
        link.open()
        link.write(ticket_job(problems))
    except (OSError, MotcuaError) as exc:
        log.warning(tr("không in được lỗi cài đặt: %s", "cannot print the set-up error: %s"), exc)
        return False
    finally:
        link.close()
    return True


def _printer_link(dispenser: dict[str, Any] | None) -> Any:
    from pydantic import ValidationError

    from appliance.config.dispenser import PrinterConfig
    from drivers.printer import make_link

    raw = (dispenser or {}).get("printer")
    try:
        conf = PrinterConfig.model_validate(raw if isinstance(raw, dict) else
                                            {"connector": {"type": "file",
                                                           "path": "/dev/usb/lp0"}})
    except ValidationError:
        # the printer part itself is wrong: try where a USB printer appears by itself
        conf = PrinterConfig.model_validate({"connector": {"type": "file",
                                                           "path": "/dev/usb/lp0"}})
    if conf.connector.type == "dummy":
        return None
    return make_link(conf)


def show_on_counter(counter: dict[str, Any] | None) -> bool:
    """``CFG`` on the counter's LED number board, and the buzzer's error sound."""
    from pydantic import ValidationError

    from appliance.config.counter import CounterSection

    try:
        section = CounterSection.model_validate(counter or {})
    except ValidationError:
        return False
    shown = False
    try:
        from appliance.counter.bootstrap import open_board

        board = open_board(section.board)
        board.show("CFG")
        board.close()
        shown = True
    except (OSError, MotcuaError) as exc:
        log.warning(tr("không hiện được CFG trên bảng LED của quầy: %s",
                       "cannot show CFG on the counter's board: %s"), exc)
    if section.buzzer.pin is not None:
        try:
            from appliance.counter.bootstrap import GpioBeeper

            beeper = GpioBeeper(section.buzzer.pin)
            beeper.error()
            time.sleep(1.0)  # the beeps run on gpiozero's thread: let them sound
            beeper.close()
        except (OSError, MotcuaError) as exc:
            log.warning(tr("không kêu bíp được: %s", "cannot beep: %s"), exc)
    return shown


def show_everywhere(problems: list[str], raw: dict[str, Any] | None) -> list[str]:
    """Every way of showing the error this unit has; returns the ones that worked."""
    raw = raw or {}
    role = raw.get("role")
    shown = []
    if show_on_screen(problems):
        shown.append("screen")
    if role in (None, "dispenser") and print_ticket(problems, raw.get("dispenser")):
        shown.append("ticket")
    if role == "counter" and show_on_counter(raw.get("counter")):
        shown.append("led")
    return shown
