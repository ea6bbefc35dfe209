"""Mẫu 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả, in two copies (liên), with the lookup
QR code and a Code 128 of ``<code>/<secret>`` that barcode readers decode."""

from __future__ import annotations

from appliance.core.dossier_code import scan_text
from appliance.store.forms.base import FormPDF, money, new_form, vn_time
from appliance.store.forms.context import FormContext

COPIES = ("Liên 1: giao cho cá nhân, tổ chức nộp hồ sơ",
          "Liên 2: lưu tại Bộ phận Một cửa")
CHANNELS = {"counter": "trực tiếp tại Bộ phận Một cửa", "online": "trực tuyến",
            "post": "qua dịch vụ bưu chính"}
RETURNS = {"counter": "Tại Bộ phận Một cửa", "post": "Qua dịch vụ bưu chính"}


def _documents(ctx: FormContext) -> list[list[str]]:
    docs = ctx.dossier.get("documents") or []
    if not docs and ctx.procedure:
        docs = ctx.procedure.get("documents") or []
    return [[str(i), d["name"], str(d.get("original", 0)), str(d.get("copies", 0))]
            for i, d in enumerate(docs, 1)]


def _page(pdf: FormPDF, ctx: FormContext, copy: str) -> None:
    d = ctx.dossier
    pdf.add_page()
    pdf.heading(ctx.office, ctx.at("received_at"))
    pdf.title_block("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", f"Mã hồ sơ: {d['code']}", copy)
    pdf.line_text(f"{ctx.office.name} tiếp nhận hồ sơ của:")
    pdf.line_text(f"Ông/Bà: {d['applicant_name']}", "B")
    pdf.line_text(f"Số định danh cá nhân: {d.get('applicant_id') or '—'}")
    pdf.line_text(f"Địa chỉ: {d.get('applicant_address') or '—'}")
    pdf.line_text(f"Số điện thoại: {d.get('applicant_phone') or '—'}    "
                  f"Email: {d.get('applicant_email') or '—'}")
    pdf.line_text(f"Nội dung yêu cầu giải quyết: {d['procedure']['name']} "
                  f"(mã thủ tục {d['procedure']['code']}); nộp "
                  f"{CHANNELS.get(d.get('channel', 'counter'), '')}")
    pdf.line_text("1. Thành phần hồ sơ nộp gồm:")
    rows = _documents(ctx) or [["", "(không có giấy tờ kèm theo)", "", ""]]
    pdf.grid(["TT", "Tên giấy tờ", "Bản chính", "Bản sao"], [10, 115, 25, 25], rows)
    pdf.line_text(f"2. Số lượng hồ sơ: {d.get('sets', 1)} (bộ)")
    days = (ctx.procedure or {}).get("processing_days")
    legal = f"{days} ngày làm việc" if days else "trong ngày làm việc"
    pdf.line_text(f"3. Thời gian giải quyết hồ sơ theo quy định là: {legal}")
    pdf.line_text(f"4. Thời gian nhận hồ sơ: {vn_time(ctx.at('received_at'))}")
    pdf.line_text(f"5. Thời gian trả kết quả giải quyết hồ sơ: {vn_time(ctx.at('due_at'))}", "B")
    where = RETURNS.get(d.get("return_method", "counter"), "")
    if d.get("return_method") == "post" and d.get("return_address"):
        where += f", địa chỉ nhận: {d['return_address']}"
    pdf.line_text(f"6. Đăng ký nhận kết quả tại: {where}")
    fee_due, fee_paid = int(d.get("fee_due") or 0), int(d.get("fee_paid") or 0)
    fee = (f"{money(fee_due)} (đã nộp {money(fee_paid)})" if fee_due
           else (ctx.procedure or {}).get("fee") or "Không thu")
    pdf.line_text(f"7. Phí, lệ phí: {fee}")
    pdf.line_text(f"Vào Sổ theo dõi hồ sơ, {ctx.number}")
    pdf.line_text(f"Mã tra cứu: {d['secret']} (tra cứu tại máy tra cứu hoặc quét mã dưới đây)",
                  "B", 12)
    y = pdf.get_y() + 1
    payload = scan_text(d["code"], d["secret"], ctx.lookup_url)
    size = pdf.qr(payload, pdf.l_margin, y)
    pdf.code128(f"{d['code']}/{d['secret']}", pdf.l_margin + size + 4, y + (size - 12) / 2)
    pdf.set_y(y + size)
    officer = ctx.name_of(d.get("received_by", ""))
    pdf.signatures(("NGƯỜI NỘP HỒ SƠ", "(Ký và ghi rõ họ tên)", d["applicant_name"]),
                   ("NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", officer))
    pdf.line_text("Ghi chú: Giấy tiếp nhận hồ sơ và hẹn trả kết quả được lập thành 2 liên; "
                  "một liên giao cho cá nhân, tổ chức nộp hồ sơ; một liên lưu tại Bộ phận "
                  "Một cửa.", "I", 10.5, h=5)


def receipt_pdf(ctx: FormContext) -> bytes:
    pdf = new_form("Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
    pdf.set_auto_page_break(True, 8)
    for copy in COPIES:
        _page(pdf, ctx, copy)
    return pdf.output_bytes()
