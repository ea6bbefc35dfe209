"""The report's charts as SVG, drawn on the server with pygal.

pygal is a small pure-Python library that writes SVG itself (no C extension, no image
back end): on a Pi it imports in a fraction of matplotlib's time and memory, and is only
imported when a chart is asked for. Its tooltips script is left out (``js = []``): the
charts need no internet, and every chart has its table beside it on the page.
"""

from __future__ import annotations

from typing import Any

from appliance.i18n import tr
from appliance.store.reports.load import Report

CHARTS = ("arrivals", "waits", "on_time", "satisfaction")
_COLOURS = ("#1f5f99", "#3f8f4f", "#d08a1e", "#b33a3a", "#6b4f9e")


def _chart(kind: str, title: str, colours: tuple[str, ...] = _COLOURS, **extra: Any) -> Any:
    import pygal  # lazily: only the report pages draw charts
    from pygal.style import Style

    style = Style(background="white", plot_background="white", foreground="#222",
                  foreground_strong="#111", foreground_subtle="#bbb", colors=colours,
                  font_family="'Noto Sans', 'DejaVu Sans', sans-serif",
                  title_font_size=16, label_font_size=12, major_label_font_size=12,
                  legend_font_size=12, value_font_size=11, no_data_font_size=20)
    options: dict[str, Any] = {"show_legend": False,
                               "no_data_text": tr("Chưa có số liệu", "No figures yet"), **extra}
    chart = getattr(pygal, kind)(
        title=title, style=style, width=640, height=320, js=[],
        disable_xml_declaration=True, print_values=False, margin=12, **options)
    return chart


def chart_svg(rep: Report, name: str) -> str:
    """One chart of the report, as an SVG element (inline in a page or served alone)."""
    q, d = rep.queue, rep.dossiers
    if name == "arrivals":
        hours = [h for h, n in q.arrivals_by_hour.items() if n] or [8]
        span = list(range(min(hours), max(hours) + 1))
        c = _chart("Bar", tr("Số phát theo giờ trong ngày", "Arrivals by hour of day"),
                   x_title=tr("Giờ", "Hour"), y_title=tr("Số phát", "Tickets"))
        c.x_labels = [f"{h:02d}" for h in span]
        c.add(tr("Số phát", "Tickets"), [q.arrivals_by_hour[h] for h in span])
    elif name == "waits":
        c = _chart("Bar", tr("Phân bố thời gian chờ (phút)", "Wait distribution (minutes)"),
                   x_title=tr("Phút", "Minutes"), y_title=tr("Số lượt", "Tickets"))
        c.x_labels = [label for label, _ in q.wait_buckets]
        c.add(tr("Số lượt", "Tickets"), [n for _, n in q.wait_buckets])
    elif name == "on_time":
        c = _chart("Line", tr("Tỷ lệ hồ sơ đúng hạn theo tháng (%)",
                              "Dossiers on time by month (%)"), range=(0, 100),
                   y_title="%", dots_size=4)
        months = d.on_time_by_month
        c.x_labels = [m for m, _ in months]
        c.add(tr("Đúng hạn", "On time"),
              [round(100 * f.on_time_rate, 1) if f.on_time_rate is not None else None
               for _, f in months])
    elif name == "satisfaction":
        c = _chart("StackedBar", tr("Mức độ hài lòng theo cán bộ", "Satisfaction by officer"),
                   colours=("#2e7d32", "#7cb342", "#c62828"), show_legend=True,
                   legend_at_bottom=True, y_title=tr("Lượt", "Ratings"))
        rows = q.groups["officer"]
        c.x_labels = [f.key for f in rows]
        for key, vi, en in (("very_satisfied", "Rất hài lòng", "Very satisfied"),
                            ("satisfied", "Hài lòng", "Satisfied"),
                            ("unsatisfied", "Không hài lòng", "Unsatisfied")):
            c.add(tr(vi, en), [f.ratings[key] for f in rows])
    else:
        raise KeyError(name)
    svg = c.render()
    return svg.decode("utf-8") if isinstance(svg, bytes) else str(svg)
