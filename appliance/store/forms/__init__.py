"""The forms of Thông tư 03/2025/TT-VPCP, Phụ lục I, as PDF (fpdf2, Noto Serif): Mẫu 01
receipt, 02 supplement request, 03 refusal, 04 apology and new appointment, 05 stop notice,
06 processing control sheet, 07 tracking book (also XLSX)."""
