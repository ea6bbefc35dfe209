"""Mẫu 02 (request for supplement), 03 (refusal), 04 (apology and new appointment) and 05
(stop notice): letters to the applicant about one dossier, each naming its reason."""

from __future__ import annotations

from typing import Any

from appliance.store.forms.base import FormPDF, new_form, vn_date, vn_time
from appliance.store.forms.context import FormContext
from appliance.store.text import nfc


def _last(ctx: FormContext, action: str) -> dict[str, Any]:
    rows = [h for h in ctx.dossier.get("history", []) if h.get("action") == action]
    return rows[-1] if rows else {}


def _letter(ctx: FormContext, title: str, number: str) -> FormPDF:
    d = ctx.dossier
    pdf = new_form(title)
    pdf.add_page()
    pdf.heading(ctx.office, ctx.now, f"Số: {number}")
    pdf.title_block(title.upper())
    pdf.line_text(f"Kính gửi: Ông/Bà {d['applicant_name']}")
    pdf.line_text(f"Địa chỉ: {d.get('applicant_address') or '—'}")
    pdf.line_text(f"Số điện thoại: {d.get('applicant_phone') or '—'}    "
                  f"Email: {d.get('applicant_email') or '—'}")
    pdf.line_text(f"{ctx.office.name} tiếp nhận hồ sơ của Ông/Bà đề nghị giải quyết thủ tục "
                  f"{d['procedure']['name']}; mã hồ sơ {d['code']}; thời gian tiếp nhận "
                  f"{vn_time(ctx.at('received_at'))}.")
    return pdf


def _sign(pdf: FormPDF, ctx: FormContext, who: str) -> None:
    pdf.signatures(None, ("NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", ctx.name_of(who)))


def supplement_pdf(ctx: FormContext) -> bytes:
    """Mẫu 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ."""
    h = _last(ctx, "supplement")
    pdf = _letter(ctx, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
                  f"{ctx.dossier['book_entry'] or ''}/PYCBS")
    pdf.line_text("Qua xem xét, hồ sơ cần bổ sung, hoàn thiện các nội dung sau:")
    for i, m in enumerate(ctx.dossier.get("missing") or [], 1):
        pdf.line_text(f"{i}. {m}")
    pdf.line_text(f"Lý do: {h.get('note', '')}")
    pdf.line_text("Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ "
                  f"{ctx.office.name} để được hướng dẫn. Thời gian bổ sung hồ sơ không tính "
                  "vào thời gian giải quyết.")
    pdf.line_text("Xin trân trọng cảm ơn!")
    _sign(pdf, ctx, h.get("by", ""))
    return pdf.output_bytes()


def refusal_pdf(ctx: FormContext) -> bytes:
    """Mẫu 03: Phiếu từ chối tiếp nhận, giải quyết hồ sơ."""
    h = _last(ctx, "refuse")
    pdf = _letter(ctx, "Phiếu từ chối tiếp nhận, giải quyết hồ sơ",
                  f"{ctx.dossier['book_entry'] or ''}/PTC")
    pdf.line_text("Sau khi xem xét, căn cứ quy định của pháp luật, cơ quan không tiếp nhận, "
                  "giải quyết hồ sơ này với lý do sau:")
    pdf.line_text(f"Lý do: {h.get('note', '')}", "B")
    pdf.line_text("Xin thông báo để Ông/Bà được biết và thực hiện./.")
    _sign(pdf, ctx, h.get("by", ""))
    return pdf.output_bytes()


def apology_pdf(ctx: FormContext) -> bytes:
    """Mẫu 04: Phiếu xin lỗi và hẹn lại ngày trả kết quả."""
    h = _last(ctx, "extend")
    pdf = _letter(ctx, "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
                  f"{ctx.dossier['book_entry'] or ''}/PXL")
    first = [x for x in ctx.dossier.get("history", []) if x.get("action") == "received"]
    if first and first[0].get("due_at"):
        from appliance.clock import parse_rfc3339

        pdf.line_text("Thời gian hẹn trả kết quả giải quyết hồ sơ: "
                      f"{vn_time(parse_rfc3339(first[0]['due_at']))}.")
    pdf.line_text("Tuy nhiên đến nay, cơ quan chưa trả kết quả giải quyết hồ sơ của Ông/Bà.")
    pdf.line_text(f"Lý do: {h.get('note', '')}")
    pdf.line_text("Sự chậm trễ này đã gây phiền hà cho Ông/Bà. Chúng tôi xin lỗi Ông/Bà và sẽ "
                  f"trả kết quả vào {vn_time(ctx.at('due_at'))}.", "B")
    pdf.line_text("Xin trân trọng cảm ơn!")
    _sign(pdf, ctx, h.get("by", ""))
    return pdf.output_bytes()


def stop_pdf(ctx: FormContext) -> bytes:
    """Mẫu 05: Phiếu dừng giải quyết hồ sơ (Thông báo dừng)."""
    h = _last(ctx, "stop")
    pdf = _letter(ctx, "Phiếu dừng giải quyết hồ sơ", f"{ctx.dossier['book_entry'] or ''}/PDG")
    pdf.line_text(f"Cơ quan thông báo dừng giải quyết hồ sơ nêu trên kể từ {vn_date(ctx.now)}.")
    pdf.line_text(f"Lý do: {h.get('note', '')}", "B")
    pdf.line_text(nfc("Xin thông báo để Ông/Bà được biết./."))
    _sign(pdf, ctx, h.get("by", ""))
    return pdf.output_bytes()
