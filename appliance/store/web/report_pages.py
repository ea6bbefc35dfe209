"""The office's reports (leaders and admins): a period chooser, an office filter, tables
with their charts beside them, and the exports (XLSX, CSV with BOM, the monthly PDF).

An office's leader or admin sees only their office; a store admin (no office) chooses one
office or all of them (the province). Everything is read-only: GETs, no form posts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from appliance.i18n import tr
from appliance.store.auth import Principal
from appliance.store.errors import StoreError
from appliance.store.reports.load import Report, build_report
from appliance.store.reports.periods import KINDS, PeriodError, period
from appliance.store.web.app import Web

KIND_LABELS = {"day": ("Ngày", "Day"), "week": ("Tuần", "Week"), "month": ("Tháng", "Month"),
               "quarter": ("Quý", "Quarter"), "year": ("Năm", "Year"),
               "range": ("Khoảng ngày", "Range")}
# the charts, each with the table drawn beside it
CHART_TABLES = {"arrivals": "arrivals", "waits": "waits", "on_time": "on_time_month",
                "satisfaction": "satisfaction_officer"}


def _office(web: Web, who: Principal, asked: str | None) -> str | None:
    if who.office is not None:
        return who.office  # an office's own people see only their office
    if not asked:
        return None
    if asked not in {o.code for o in web.store.offices.all()}:
        raise StoreError("bad_request", tr(f"Không có cơ quan {asked[:40]!r}.",
                                           f"No office {asked[:40]!r}."))
    return asked


def _target(text: str | None) -> float:
    try:
        minutes = float(text) if text else 15.0
    except ValueError:
        minutes = -1
    if not 1 <= minutes <= 240:
        raise StoreError("bad_request", tr("Mức phục vụ: từ 1 đến 240 phút.",
                                           "Service level target: 1 to 240 minutes."))
    return minutes * 60


def register(app: FastAPI, web: Web) -> None:
    store = web.store

    def load(request: Request, default_kind: str = "month") -> tuple[Principal, Report,
                                                                     dict[str, Any]]:
        who = web.auth.require(request, "leader")
        qp = request.query_params
        now = store.dossiers.clock.now()
        today = store.calendar.local(now).date()
        kind = qp.get("kind") or default_kind
        args = {"kind": kind, "at": qp.get("at") or today.isoformat(),
                "until": qp.get("until") or today.isoformat(), "office": qp.get("office") or "",
                "target": qp.get("target") or "15"}
        try:
            p = period(kind, args["at"], args["until"] if kind == "range" else None)
        except PeriodError as exc:
            raise StoreError("bad_request", str(exc)) from None
        office = _office(web, who, args["office"])
        rep = build_report(store.engine, store.calendar, office, p, now=now,
                           target_s=_target(args["target"]))
        return who, rep, args

    def office_name(rep: Report) -> str:
        return (store.offices.get(rep.office).name if rep.office
                else tr("Tất cả cơ quan", "All offices"))

    @app.get("/reports", include_in_schema=False)
    async def reports_page(request: Request) -> Response:
        from appliance.store.reports.charts import chart_svg
        from appliance.store.reports.tables import report_tables

        def work() -> tuple[Principal, Report, dict[str, Any], dict[str, str]]:
            who, rep, args = load(request)
            return who, rep, args, {name: chart_svg(rep, name) for name in CHART_TABLES}

        who, rep, args, charts = await run_in_threadpool(work)
        tables = {t.key: t for t in report_tables(rep)}
        query = urlencode(args)
        return web.page(request, "reports.html", who, title=tr("Báo cáo", "Reports"),
                        rep=rep, args=args, tables=tables, charts=charts,
                        chart_tables=CHART_TABLES, kinds=[(k, tr(*KIND_LABELS[k]))
                                                          for k in KINDS],
                        offices=store.offices.all() if who.office is None else [],
                        office_label=office_name(rep), query=query, tr=tr)

    @app.get("/reports/chart/{name}.svg", include_in_schema=False)
    async def chart(request: Request, name: str) -> Response:
        from appliance.store.reports.charts import CHARTS, chart_svg

        if name not in CHARTS:
            raise StoreError("not_found", tr(f"Không có biểu đồ {name[:40]!r}.",
                                             f"No chart {name[:40]!r}."))
        _, rep, _ = await run_in_threadpool(load, request)
        svg = '<?xml version="1.0" encoding="utf-8"?>\n' + chart_svg(rep, name)
        return Response(svg.encode("utf-8"), media_type="image/svg+xml")

    @app.get("/reports/export.xlsx", include_in_schema=False)
    async def export_xlsx(request: Request) -> Response:
        from appliance.store.reports.exports import xlsx_bytes

        def work() -> tuple[Report, bytes]:
            _, rep, _ = load(request)
            made = store.calendar.local(store.dossiers.clock.now())
            return rep, xlsx_bytes(rep, office_name(rep), made)

        rep, data = await run_in_threadpool(work)
        return _download(data, f"bao-cao-{rep.period.first}-{rep.period.last}.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @app.get("/reports/export.csv", include_in_schema=False)
    async def export_csv(request: Request) -> Response:
        from appliance.store.reports.exports import csv_bytes

        def work() -> tuple[Report, bytes]:
            _, rep, _ = load(request)
            try:
                return rep, csv_bytes(rep, request.query_params.get("table") or None)
            except KeyError:
                raise StoreError("not_found", tr("Không có bảng này.", "No such table.")) \
                    from None

        rep, data = await run_in_threadpool(work)
        return _download(data, f"bao-cao-{rep.period.first}-{rep.period.last}.csv",
                         "text/csv; charset=utf-8")

    @app.get("/reports/monthly.pdf", include_in_schema=False)
    async def monthly(request: Request) -> Response:
        from appliance.store.reports.pdf import monthly_pdf

        def work() -> tuple[Report, bytes]:
            _, rep, _ = load(request, default_kind="month")
            office = store.offices.get(rep.office) if rep.office else store.offices.default
            return rep, monthly_pdf(rep, office, store.calendar.local(
                store.dossiers.clock.now()))

        rep, data = await run_in_threadpool(work)
        return _download(data, f"bao-cao-thang-{rep.period.first:%Y-%m}.pdf",
                         "application/pdf", inline=True)


def _download(data: bytes, name: str, media: str, inline: bool = False) -> Response:
    how = "inline" if inline else "attachment"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'{how}; filename="{name}"',
                             "Cache-Control": "no-store"})


