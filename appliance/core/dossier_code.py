"""Dossier codes and the receipt's scan text: one grammar shared by the store and the kiosk.

A receipt's QR code and Code 128 barcode carry ``<code>/<secret>``; a QR code may instead
carry the public lookup URL ending in ``?ma=<code>&mk=<secret>``. Everything else is garbage.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

# No 0/O, 1/I/L: the secret is read aloud and typed by people.
SECRET_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 6
DEFAULT_CODE_FORMAT = "{agency}-{date:%y%m%d}-{seq:04d}"

_CODE_RE = re.compile(r"^[0-9A-Z][0-9A-Z.\-]{4,39}$")
_SECRET_RE = re.compile(rf"^[{SECRET_ALPHABET}]{{{SECRET_LENGTH}}}$")
MAX_SCAN_LENGTH = 200


@dataclass(frozen=True)
class ScanResult:
    code: str
    secret: str


def format_code(agency: str, day: date, seq: int, fmt: str = DEFAULT_CODE_FORMAT) -> str:
    """E.g. ``000.00.06.G04-261130-0001`` for agency ``000.00.06.G04``."""
    return fmt.format(agency=agency, date=day, seq=seq)


def new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def valid_code(code: str) -> bool:
    return bool(_CODE_RE.match(code))


def valid_secret(secret: str) -> bool:
    return bool(_SECRET_RE.match(secret))


def parse_scan(text: str) -> ScanResult | None:
    """The code and secret in a scanned or typed text, or None if it is not one of ours."""
    if not text or len(text) > MAX_SCAN_LENGTH or not text.isprintable():
        return None
    text = text.strip()
    if "?" in text:
        query = parse_qs(urlsplit(text).query)
        code = (query.get("ma") or [""])[0]
        secret = (query.get("mk") or [""])[0]
    else:
        code, sep, secret = text.rpartition("/")
        if not sep:
            return None
    code, secret = code.strip().upper(), secret.strip().upper()
    if valid_code(code) and valid_secret(secret):
        return ScanResult(code, secret)
    return None


def scan_text(code: str, secret: str, lookup_url: str | None = None) -> str:
    """What a receipt's QR code carries (the URL form when the site has a public page)."""
    if lookup_url:
        sep = "&" if "?" in lookup_url else "?"
        return f"{lookup_url}{sep}ma={code}&mk={secret}"
    return f"{code}/{secret}"
