"""The HTTP JSON API (FastAPI; OpenAPI at /openapi.json, docs at /docs).

Public: procedure search/get, dossier lookup (code + secret, masked, rate-limited), the board.
Staff: create, read, update dossiers, move stages. Admin: imports, exports, accounts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from appliance.config.loader import field_message
from appliance.i18n import tr
from appliance.store import audit
from appliance.store.auth import Principal
from appliance.store.core import Store
from appliance.store.desk import check_office
from appliance.store.dossiers import Audited
from appliance.store.errors import StoreError
from appliance.store.live.view import QueueView
from appliance.store.models import (
    DossierImport,
    DossierIn,
    DossierUpdate,
    LookupIn,
    ProcedureIn,
    StageMove,
    UserName,
)
from appliance.store.ratelimit import RateLimiter
from appliance.store.transfer import (
    ImportError_,
    export_dossiers,
    export_procedures,
    import_dossiers,
    import_procedures,
    parse,
)

M = TypeVar("M", bound=BaseModel)

STATUS = {"not_found": 404, "conflict": 409, "bad_request": 422, "rate_limited": 429,
          "forbidden": 403, "locked": 423, "unauthorized": 401}
# HTTP errors raised by the framework (and our auth) in the one error shape, in Vietnamese
HTTP_ERRORS = {
    401: ("unauthorized", "Cần đăng nhập trước (log in first)."),
    403: ("forbidden", "Bạn không có quyền làm việc này (not allowed)."),
    404: ("not_found", "Không tìm thấy địa chỉ này (no such path)."),
    405: ("method_not_allowed", "Địa chỉ này không nhận phương thức này (method not allowed)."),
}
MAX_CSV = 50 * 1024 * 1024


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProceduresImport(_Body):
    """Either ``procedures`` (a JSON list) or ``csv`` (the text of a CSV file), not both."""

    procedures: list[ProcedureIn] | None = None
    csv: Annotated[str, Field(max_length=MAX_CSV)] | None = None


class DossiersImport(_Body):
    dossiers: list[DossierImport] | None = None
    csv: Annotated[str, Field(max_length=MAX_CSV)] | None = None


class UserIn(_Body):
    name: UserName
    role: Literal["staff", "processor", "leader", "admin"]
    password: Annotated[str, Field(min_length=8, max_length=72)]


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def _who(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Principal:
    store: Store = request.app.state.store
    p = store.users.principal(token) if token else None
    if p is None:
        raise HTTPException(401, "Cần đăng nhập trước (log in first).",
                            headers={"WWW-Authenticate": "Bearer"})
    return p


def _admin(p: Annotated[Principal, Depends(_who)]) -> Principal:
    if p.role != "admin":
        raise HTTPException(403, "Chỉ quản trị được làm việc này (admins only).")
    return p


Staff = Annotated[Principal, Depends(_who)]
Admin = Annotated[Principal, Depends(_admin)]


def create_app(store: Store, limiter: RateLimiter | None = None,
               live: QueueView | None = None) -> FastAPI:
    """The store's HTTP app; ``live`` (the queue seen over MQTT) adds the citizen's ticket
    page and the officer's counter screen."""
    s = store.settings
    limiter = limiter or RateLimiter(s.lookup_rate_per_s, s.lookup_burst, s.max_failed_lookups)
    login_limiter = RateLimiter(0.2, 10, 30)
    app = FastAPI(title="motcua dossier store", version="1",
                  description="Procedure catalogue and dossiers of a one-stop office.",
                  docs_url=None, redoc_url=None)
    app.state.store = store
    add_error_handlers(app)
    from appliance.store.web import public
    from appliance.store.web.app import mount_web

    web = mount_web(app, store)
    public.register(app, store, limiter)  # the citizen's pages share the lookups' budget
    if live is not None:
        from appliance.store.web import counter_screen, phone

        phone.register(app, store, live)
        counter_screen.register(app, web, live)

    def import_rows(items: list[M] | None, csv: str | None, model: type[M],
                    what: str) -> list[M]:
        """The rows of a bulk import, given as JSON items or as CSV text (exactly one)."""
        if (items is None) == (csv is None):
            raise StoreError("bad_request", tr(f"gửi {what} hoặc csv (một trong hai)",
                                                f"give either {what} or csv"))
        rows = items if items is not None else parse(model, csv or "", "csv", what,
                                                     s.max_import_rows)
        if len(rows) > s.max_import_rows:
            raise StoreError("bad_request", tr(
                f"mỗi lần nhập tối đa {s.max_import_rows} dòng",
                f"at most {s.max_import_rows} rows per import"))
        return rows

    @app.post("/api/v1/auth/token", tags=["auth"])
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()],
              request: Request) -> dict[str, str]:
        key = "api:" + (request.client.host if request.client else "?")
        if not login_limiter.allow(key):
            raise StoreError("rate_limited", "Quá nhiều lần đăng nhập; hãy thử lại sau ít phút "
                                             "(too many log-in attempts).")
        found = store.users.login(form.username, form.password)
        if found is None:
            login_limiter.failed(key)
            raise StoreError("unauthorized", "Sai tên đăng nhập hoặc mật khẩu "
                                             "(wrong name or password).")
        token, p = found
        return {"access_token": token, "token_type": "bearer", "role": p.role}

    def note(p: Principal, action: str, **detail: Any) -> Audited:
        """The audit row of a change made through the JSON API, written in the change's
        own transaction (both land, or neither)."""
        def write(conn: Connection, office: str, code: str) -> None:
            audit.record(conn, p.name, action, office=office, target=code, **detail)
        return write

    def own(code: str, p: Principal) -> dict[str, Any]:
        """A dossier of the caller's office (forbidden for another office's)."""
        found = store.dossiers.get(code)
        if found is None:
            raise StoreError("not_found", f"Không có hồ sơ {code!r} (no dossier {code!r})")
        check_office(p, found["office"])
        return found

    @app.get("/api/v1/health", tags=["public"])
    def health() -> dict[str, Any]:
        return {"ok": True, "procedures": store.catalogue.count,
                "catalogue": store.catalogue.version}

    @app.get("/api/v1/procedures", tags=["public"])
    def search(q: Annotated[str, Query(max_length=200)] = "",
               sector: Annotated[str | None, Query(max_length=200)] = None,
               limit: Annotated[int, Query(ge=1, le=100)] = 20,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
        found, total = store.catalogue.search(q, sector, limit, offset)
        return {"procedures": found, "total": total}

    @app.get("/api/v1/procedures/export", tags=["admin"])
    def procedures_export(p: Staff, format: Literal["json", "csv"] = "json") -> PlainTextResponse:
        media = "application/json" if format == "json" else "text/csv"
        return PlainTextResponse(export_procedures(store.engine, format), media_type=media)

    @app.get("/api/v1/procedures/{code}", tags=["public"])
    def procedure(code: str) -> dict[str, Any]:
        found = store.catalogue.get(code)
        if found is None:
            raise StoreError("not_found", tr(f"không có thủ tục {code!r}",
                                             f"no procedure {code!r}"))
        return {"procedure": found}

    @app.post("/api/v1/procedures/import", tags=["admin"])
    def procedures_import(body: ProceduresImport, p: Admin) -> dict[str, Any]:
        items = import_rows(body.procedures, body.csv, ProcedureIn, "procedures")
        added, updated = import_procedures(store.engine, items, lambda conn: audit.record(
            conn, p.name, "import_procedures", office=p.office, rows=len(items)))
        store.catalogue.invalidate()
        return {"added": added, "updated": updated, "version": store.catalogue.version}

    @app.post("/api/v1/lookup", tags=["public"])
    def lookup(body: LookupIn, request: Request) -> dict[str, Any]:
        key = request.client.host if request.client else "?"
        if not limiter.allow(key):
            raise StoreError("rate_limited", tr("tra cứu quá nhiều lần; hãy thử lại sau",
                                                "too many lookups; try again later"))
        found = store.dossiers.lookup(body.code, body.secret)
        if found is None:
            limiter.failed(key)
            raise StoreError("not_found", tr("không có hồ sơ với mã hồ sơ và mã tra cứu này",
                                             "no dossier with this code and secret"))
        return {"dossier": found}

    @app.get("/api/v1/board", tags=["public"])
    def board(office: Annotated[str | None, Query(pattern=r"^[0-9A-Z][0-9A-Z.]{1,29}$")]
              = None) -> dict[str, Any]:
        """The board's figures; ``office`` (agency code) for one office of a shared store."""
        return store.dossiers.board(s.board_ready_limit, office)

    @app.post("/api/v1/dossiers", tags=["staff"], status_code=201)
    def create(body: DossierIn, p: Staff) -> dict[str, Any]:
        if body.received_at is not None and p.role != "admin":
            raise StoreError("forbidden", "Thời gian tiếp nhận là giờ của máy chủ; chỉ quản trị "
                                          "được sửa, kèm lý do (received_at: admins only).")
        office = p.office or store.offices.default.code
        if not store.offices.uses(office, body.procedure_code):
            raise StoreError("bad_request", f"Cơ quan này không giải quyết thủ tục "
                                            f"{body.procedure_code} (not a procedure in use).")
        audited = (note(p, "correct_received_at", received_at=body.received_at.isoformat(),
                        reason=body.received_at_reason) if body.received_at is not None
                   else note(p, "receive"))
        return {"dossier": store.dossiers.create(body, p.name, office, audited)}

    @app.get("/api/v1/dossiers/export", tags=["admin"])
    def dossiers_export(p: Admin, format: Literal["json", "csv"] = "json") -> PlainTextResponse:
        media = "application/json" if format == "json" else "text/csv"
        return PlainTextResponse(export_dossiers(store.dossiers, format), media_type=media)

    @app.post("/api/v1/dossiers/import", tags=["admin"])
    def dossiers_import(body: DossiersImport, p: Admin) -> dict[str, Any]:
        items = import_rows(body.dossiers, body.csv, DossierImport, "dossiers")
        office = p.office or store.offices.default.code
        return {"imported": import_dossiers(store.dossiers, items, office, lambda conn: (
            audit.record(conn, p.name, "import_dossiers", office=office, rows=len(items))))}

    @app.get("/api/v1/dossiers/{code}", tags=["staff"])
    def get(code: str, p: Staff) -> dict[str, Any]:
        return {"dossier": own(code, p)}

    @app.patch("/api/v1/dossiers/{code}", tags=["staff"])
    def patch(code: str, body: DossierUpdate, p: Staff) -> dict[str, Any]:
        own(code, p)
        return {"dossier": store.dossiers.update(
            code, body, p.name, note(p, "update", **body.model_dump(exclude_unset=True)))}

    @app.post("/api/v1/dossiers/{code}/stage", tags=["staff"])
    def stage(code: str, body: StageMove, p: Staff) -> dict[str, Any]:
        own(code, p)
        return {"dossier": store.dossiers.move_stage(
            code, body, p.name, note(p, body.stage, note=body.note, public=body.public))}

    @app.put("/api/v1/users", tags=["admin"])
    def set_user(body: UserIn, p: Admin) -> dict[str, Any]:
        existing = store.users.find(body.name)
        if existing is not None and p.office and existing["office"] != p.office:
            raise StoreError("forbidden", "Tài khoản này thuộc cơ quan khác "
                                          "(an account of another office).")
        store.users.set_user(body.name, body.role, password=body.password,
                             audited=lambda conn: audit.record(
                                 conn, p.name, "set_user", office=p.office, target=body.name,
                                 role=body.role),
                             **({"office": p.office} if p.office else {}))
        return {"name": body.name, "role": body.role}

    return app


def _error(code: str, message: str, status: int, headers: Any = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    """One error shape for every answer: ``{"error": {"code", "message"}}``; pages get an
    HTML page with the same sentence (see web.app)."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from appliance.store.web.app import page_error

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> Any:
        status = STATUS.get(exc.code, 400)
        if not request.url.path.startswith("/api/"):
            return page_error(request, exc.message, status)
        body: dict[str, Any] = {"error": {"code": exc.code, "message": exc.message}}
        if isinstance(exc, ImportError_):
            body["error"]["problems"] = exc.problems
        return JSONResponse(body, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
        code, message = HTTP_ERRORS.get(exc.status_code, ("error", str(exc.detail)))
        if exc.status_code in (401, 403) and exc.detail and exc.detail != "Not authenticated":
            message = str(exc.detail)
        if not request.url.path.startswith("/api/"):
            return page_error(request, message, exc.status_code)
        return _error(code, message, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        parts = []
        for e in exc.errors()[:10]:
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query"))
            parts.append(f"{where}: {field_message(e)}")
        message = tr("Dữ liệu không hợp lệ: ", "Invalid input: ") + "; ".join(parts)
        if not request.url.path.startswith("/api/"):
            return page_error(request, message, 422)
        return _error("bad_request", message, 422)
