"""Tell people: an HTTP webhook (JSON) and an e-mail per alert and per recovery, with a
per-alert cool-down so a flapping unit does not flood anyone, and a daily digest.

Sending happens on a worker thread: a slow mail server must never delay the next tick.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import queue
import smtplib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from appliance.care.config import AlertSection
from appliance.care.fleet import Event, SiteView
from appliance.care.history import History, NoticeRow, ToldChange
from appliance.care.model import reason_code
from appliance.clock import rfc3339
from appliance.i18n import tr

log = logging.getLogger(__name__)

STATE_VI = {"ready": "Sẵn sàng", "alert": "Cảnh báo", "lost": "Mất kết nối",
            "stopped": "Đã dừng", "never_seen": "Chưa từng thấy"}
STATE_EN = {"ready": "ready", "alert": "alert", "lost": "lost", "stopped": "stopped",
            "never_seen": "never seen"}


def notice_body(ev: Event, now: datetime) -> dict[str, Any]:
    n = ev.notice
    who = f"thiết bị {ev.unit} ({ev.role})" if ev.unit else "toàn bộ điểm (mất cầu nối)"
    if n.kind == "alert":
        msg = f"Điểm {ev.site}: {who} — {STATE_VI[n.state]}"
        if n.reasons:
            msg += ": " + "; ".join(n.reasons)
    else:
        msg = f"Điểm {ev.site}: {who} đã hoạt động trở lại (trước đó: " \
              f"{STATE_VI.get(n.previous or '', n.previous or '?')})"
    body = {"v": 1, "kind": n.kind, "site": ev.site, "unit": ev.unit, "role": ev.role,
            "state": n.state, "reason": "; ".join(n.reasons) or None,
            "reasons": list(n.reasons), "since": rfc3339(n.since), "at": rfc3339(now),
            "previous": n.previous, "message": msg}
    return {**body, "id": notice_key(body)}


def notice_key(body: dict[str, Any]) -> str:
    """The notice's own name, the same each time it is sent: the webhook's Idempotency-Key
    and the e-mail's Message-ID. A care server killed after a receiver took a notice but
    before it wrote that down sends it again (sooner twice than never); with this key the
    receiver can tell it is the same notice."""
    if isinstance(body.get("id"), str):
        return str(body["id"])
    text = json.dumps({k: v for k, v in body.items() if k != "id"}, sort_keys=True,
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Cooldown:
    """Per (site, unit, state, reason codes): at most one alert per ``seconds`` (a flapping
    unit does not flood; a new reason still gets through); a recovery only for an alert
    that went out (so a held-back alert never gets a lonely "recovered")."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[tuple[str, str, str, frozenset[str]], datetime] = {}
        self._open: set[tuple[str, str]] = set()

    def restore(self, last_sent: list[dict[str, Any]], recent: list[dict[str, Any]]) -> None:
        """After a restart: alerts whose recovery is still owed, and the alerts sent within
        the cool-down (from the care server's record)."""
        for body in last_sent:
            if body.get("kind") == "alert":
                self._open.add((body["site"], body["unit"] or ""))
        for body in recent:
            key = (body["site"], body["unit"] or "", body["state"],
                   frozenset(reason_code(r) for r in body.get("reasons") or []))
            self._last[key] = datetime.fromisoformat(body["decided"])

    def allow(self, ev: Event, now: datetime) -> bool:
        who = (ev.site, ev.unit or "")
        if ev.notice.kind == "recovery":
            if who in self._open:
                self._open.discard(who)
                return True
            return False
        key = (*who, ev.notice.state, frozenset(reason_code(r) for r in ev.notice.reasons))
        last = self._last.get(key)
        if last is not None and (now - last).total_seconds() < self.seconds:
            return False
        self._last[key] = now
        self._open.add(who)
        return True


class Dispatcher:
    def __init__(self, cfg: AlertSection, history: History | None = None,
                 digest_file: Path | None = None) -> None:
        self.cfg = cfg
        self.history = history
        self.digest_file = digest_file  # the day of the last digest, across restarts
        self.cooldown = Cooldown(cfg.cooldown_s)
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._pending = 0  # notices handed to the sender and not yet done by every channel
        self._pending_lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="care-alerts", daemon=True)
        self._last_digest: str | None = None
        if digest_file is not None and digest_file.exists():
            self._last_digest = digest_file.read_text().strip() or None
        self.sent = 0
        self.held = 0
        self.failed = 0

    def start(self, now: datetime | None = None) -> None:
        """Start sending; after a restart, first what was decided but not yet sent."""
        if self.history is not None and now is not None:
            self.cooldown.restore(self.history.last_sent(),
                                  self.history.sent_alerts(now - timedelta(
                                      seconds=self.cfg.cooldown_s)))
            for notice_id, body, done in self.history.undelivered(now - timedelta(days=1)):
                self.sent += 1
                self._send(body, notice_id, done)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=15)

    def submit(self, events: list[Event], now: datetime,
               told: list[ToldChange] | None = None) -> None:
        """Decide each notice (cool-down), put the decisions and the told states on disk in
        one transaction, then hand the allowed ones to the sender."""
        rows: list[NoticeRow] = []
        for ev in events:
            body = notice_body(ev, now)
            rows.append((ev.site, ev.unit, ev.notice.kind, ev.notice.state, body,
                         self.cooldown.allow(ev, now)))
        ids: list[int | None] = [None] * len(rows)
        if self.history is not None:
            ids = list(self.history.record(rows, told or [], now))
        for (*_, body, allowed), notice_id in zip(rows, ids, strict=True):
            if allowed:
                self.sent += 1
                self._send(body, notice_id)
            else:
                self.held += 1
                log.info(tr("chưa gửi lại (đang trong thời gian chờ): %s",
                            "held back by the cool-down: %s"), body["message"])

    @property
    def pending(self) -> int:
        """Notices decided on and not yet through every channel (a stuck mail server
        shows here)."""
        with self._pending_lock:
            return self._pending

    def _send(self, body: dict[str, Any], notice_id: int | None,
              done: frozenset[str] = frozenset()) -> None:
        with self._pending_lock:
            self._pending += 1
        self._queue.put(("notice", body, notice_id, done))

    # ---- the daily digest ---------------------------------------------------------------
    def maybe_digest(self, sites: list[SiteView], now: datetime) -> bool:
        day = now.date().isoformat()
        if self._last_digest == day or now.time() < self.cfg.digest_at:
            return False
        self._last_digest = day
        if self.digest_file is not None:
            self.digest_file.write_text(day)
        self._queue.put(("digest", {"text": digest_text(sites, self._recent(now), now),
                                    "subject": f"[motcua] Tổng hợp ngày {day}"}, None,
                         frozenset()))
        return True

    def _recent(self, now: datetime) -> list[dict[str, Any]]:
        return self.history.notices(now - timedelta(days=1)) if self.history else []

    # ---- sending (worker thread) --------------------------------------------------------
    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            kind, body, notice_id, done = item
            if kind != "notice":
                self._email(body["subject"], body["text"])
                continue
            key = notice_key(body)
            if "webhook" not in done:
                self._webhook(body, key)
                self._delivered(notice_id, "webhook")
            if "email" not in done:
                # marked the moment the mail server took it (before QUIT): the window in
                # which a kill sends it again is as short as it can be
                self._email(f"[motcua] {body['message']}", _mail_text(body), key,
                            accepted=functools.partial(self._delivered, notice_id, "email"))
            with self._pending_lock:
                self._pending -= 1

    def _delivered(self, notice_id: int | None, channel: str) -> None:
        if self.history is not None and notice_id is not None:
            self.history.delivered(notice_id, channel)

    def _webhook(self, body: dict[str, Any], key: str) -> None:
        hook = self.cfg.webhook
        if hook is None:
            return
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for attempt in range(hook.attempts):
            req = urllib.request.Request(hook.url, data=data, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Idempotency-Key": key})
            try:
                with urllib.request.urlopen(req, timeout=hook.timeout_s) as resp:
                    if 200 <= resp.status < 300:
                        return
            except (urllib.error.URLError, OSError) as exc:
                log.warning(tr("gọi webhook %s không được (lần %d): %s",
                               "webhook %s failed (attempt %d): %s"), hook.url, attempt + 1, exc)
            if attempt + 1 < hook.attempts:
                time.sleep(min(2**attempt, 10))
        self.failed += 1

    def _email(self, subject: str, text: str, key: str | None = None, *,
               accepted: Callable[[], None] | None = None) -> None:
        """Send one mail; ``accepted`` is called once it is over: the moment the server
        took the mail (still inside the session), or after it failed."""
        mail = self.cfg.email
        if mail is None:
            if accepted is not None:
                accepted()
            return
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = mail.sender, ", ".join(mail.to), subject
        if key is not None:
            msg["Message-ID"] = f"<{key}@{mail.sender.rpartition('@')[2] or 'motcua-care'}>"
        msg.set_content(text)
        told = False
        try:
            with smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout_s) as smtp:
                if mail.starttls:
                    smtp.starttls()
                if mail.username:
                    smtp.login(mail.username, mail.password or "")
                smtp.send_message(msg)
                told = True
                if accepted is not None:
                    accepted()
        except (smtplib.SMTPException, OSError) as exc:
            if not told:
                self.failed += 1
                log.warning(tr("không gửi được thư tới %s: %s",
                               "e-mail to %s failed: %s"), mail.to, exc)
        if not told and accepted is not None:
            accepted()  # tried to the end: not tried again at every start


_Item = tuple[Literal["notice", "digest"], dict[str, Any], int | None, frozenset[str]]


def _mail_text(body: dict[str, Any]) -> str:
    lines = [body["message"], "",
             f"Điểm / site: {body['site']}", f"Thiết bị / unit: {body['unit'] or '-'}",
             f"Vai trò / role: {body['role']}",
             f"Trạng thái / state: {STATE_VI[body['state']]} ({STATE_EN[body['state']]})",
             f"Lý do / reason: {body['reason'] or '-'}", f"Từ lúc / since: {body['since']}"]
    return "\n".join(lines) + "\n"


def digest_text(sites: list[SiteView], recent: list[dict[str, Any]], now: datetime) -> str:
    totals: dict[str, int] = {}
    for s in sites:
        for state, n in s.counts.items():
            totals[state] = totals.get(state, 0) + n
    lines = [f"Tổng hợp tình trạng thiết bị lúc {rfc3339(now)} (daily digest)", "",
             "Toàn tỉnh / fleet: " + ", ".join(f"{STATE_VI[k]}: {v}" for k, v in totals.items()),
             ""]
    lost_sites = [s.site for s in sites if s.state in ("lost", "never_seen")]
    if lost_sites:
        lines.append("Điểm mất kết nối / sites lost: " + ", ".join(lost_sites))
    lines.append("Thiết bị cần xem / units needing care:")
    bad = [(s.site, u) for s in sites for u in s.units if u.state != "ready"]
    for site, u in bad:
        lines.append(f"  {site}/{u.unit} ({u.role}): {STATE_VI[u.state]} — "
                     f"{'; '.join(u.reasons) or '-'}")
    if not bad:
        lines.append("  (không có / none)")
    alerts = [r for r in recent if r.get("kind") == "alert"]
    held = sum(1 for r in alerts if not r.get("sent"))
    lines += ["", f"Cảnh báo 24 giờ qua / alerts in 24 h: {len(alerts)} "
                  f"(giữ lại do thời gian chờ / held by cool-down: {held})"]
    for r in alerts[-50:]:
        lines.append(f"  {r['at']} {r['message']}")
    return "\n".join(lines) + "\n"
