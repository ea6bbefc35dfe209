"""The QR code on a Vietnamese chip ID card (CCCD): ``id|old id|name|birth ddmmyyyy|sex|
address|issued ddmmyyyy``. A scanner types it into the receive form, which fills the
applicant's fields from it."""

from __future__ import annotations

import re

from appliance.store.text import clean

_ID = re.compile(r"^[0-9]{12}$")


def parse_cccd_qr(text: str) -> dict[str, str] | None:
    """The applicant fields in a scanned CCCD QR text, None for anything else."""
    parts = [p.strip() for p in clean(text).strip().split("|")]
    if len(parts) < 6 or not _ID.match(parts[0]) or not parts[2]:
        return None
    return {"applicant_id": parts[0], "applicant_name": parts[2],
            "applicant_address": parts[5]}
