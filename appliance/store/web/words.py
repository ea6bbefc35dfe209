"""The English of the desk's fixed labels (stages, roles, actions, worklists), beside the
Vietnamese kept where each is defined; ``word(kind, key)`` gives the request's language."""

from __future__ import annotations

from appliance.i18n import language
from appliance.store.auth import ROLE_LABELS
from appliance.store.desk import ACTION_LABELS
from appliance.store.stages import LABELS, LABELS_EN
from appliance.store.worklist import LISTS

ROLE_LABELS_EN = {"staff": "Receiving officer", "processor": "Processing officer",
                  "leader": "Leader", "admin": "Administrator"}
ACTION_LABELS_EN = {
    "received": "Received", "handover": "Hand over", "supplement": "Request a supplement",
    "resume": "Resume", "extend": "Extend (apology, new date)", "liaison_out": "Pass on",
    "liaison_back": "Receive back", "refuse": "Refuse", "stop": "Stop",
    "ready": "Result ready", "returned": "Returned", "processing": "Hand over",
    "ready_at": "Result ready",
}
LISTS_EN = {"today": "Received today", "mine": "Mine", "due_today": "Due today",
            "overdue": "Overdue", "supplement": "Awaiting supplement",
            "ready": "Ready to return"}
WORDS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "stage": (LABELS, LABELS_EN), "role": (ROLE_LABELS, ROLE_LABELS_EN),
    "action": (ACTION_LABELS, ACTION_LABELS_EN), "list": (LISTS, LISTS_EN),
}


def word(kind: str, key: str | None) -> str:
    vi, en = WORDS[kind]
    return (en if language() == "en" else vi).get(key or "", "")
