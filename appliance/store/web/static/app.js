// The receive form: a scan of the applicant's CCCD QR code (id|old id|name|birth|sex|
// address|issued) fills the applicant's fields. The server parses it too (no script).
document.addEventListener("DOMContentLoaded", () => {
  const scan = document.getElementById("cccd_scan");
  if (!scan) return;
  scan.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const parts = scan.value.split("|").map((s) => s.trim());
    if (parts.length < 6 || !/^[0-9]{12}$/.test(parts[0])) {
      scan.setCustomValidity("Không đọc được mã QR trên CCCD");
      scan.reportValidity();
      return;
    }
    scan.setCustomValidity("");
    const set = (name, value) => { document.querySelector(`[name=${name}]`).value = value; };
    set("applicant_id", parts[0]);
    set("applicant_name", parts[2]);
    set("applicant_address", parts[5]);
    scan.value = "";
    document.querySelector("[name=applicant_phone]").focus();
  });
});
