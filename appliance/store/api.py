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

from appliance.store.auth import Principal
from appliance.store.core import Store
from appliance.store.errors import StoreError
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
          "forbidden": 403}
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
    role: Literal["staff", "admin"]
    password: Annotated[str, Field(min_length=8, max_length=72)]


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def _who(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Principal:
    store: Store = request.app.state.store
    p = store.users.principal(token) if token else None
    if p is None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})
    return p


def _admin(p: Annotated[Principal, Depends(_who)]) -> Principal:
    if p.role != "admin":
        raise HTTPException(403, "admins only")
    return p


Staff = Annotated[Principal, Depends(_who)]
Admin = Annotated[Principal, Depends(_admin)]


def create_app(store: Store, limiter: RateLimiter | None = None) -> FastAPI:
    s = store.settings
    limiter = limiter or RateLimiter(s.lookup_rate_per_s, s.lookup_burst, s.max_failed_lookups)
    app = FastAPI(title="motcua dossier store", version="1",
                  description="Procedure catalogue and dossiers of a one-stop office.")
    app.state.store = store

    def import_rows(items: list[M] | None, csv: str | None, model: type[M],
                    what: str) -> list[M]:
        """The rows of a bulk import, given as JSON items or as CSV text (exactly one)."""
        if (items is None) == (csv is None):
            raise StoreError("bad_request", f"give either {what} or csv")
        rows = items if items is not None else parse(model, csv or "", "csv", what,
                                                     s.max_import_rows)
        if len(rows) > s.max_import_rows:
            raise StoreError("bad_request", f"at most {s.max_import_rows} rows per import")
        return rows

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        body: dict[str, Any] = {"error": {"code": exc.code, "message": exc.message}}
        if isinstance(exc, ImportError_):
            body["error"]["problems"] = exc.problems
        return JSONResponse(body, status_code=STATUS.get(exc.code, 400))

    @app.post("/api/v1/auth/token", tags=["auth"])
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        found = store.users.login(form.username, form.password)
        if found is None:
            raise HTTPException(401, "wrong name or password")
        token, p = found
        return {"access_token": token, "token_type": "bearer", "role": p.role}

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
            raise StoreError("not_found", f"no procedure {code!r}")
        return {"procedure": found}

    @app.post("/api/v1/procedures/import", tags=["admin"])
    def procedures_import(body: ProceduresImport, p: Admin) -> dict[str, Any]:
        items = import_rows(body.procedures, body.csv, ProcedureIn, "procedures")
        added, updated = import_procedures(store.engine, items)
        store.catalogue.invalidate()
        return {"added": added, "updated": updated, "version": store.catalogue.version}

    @app.post("/api/v1/lookup", tags=["public"])
    def lookup(body: LookupIn, request: Request) -> dict[str, Any]:
        key = request.client.host if request.client else "?"
        if not limiter.allow(key):
            raise StoreError("rate_limited", "too many lookups; try again later")
        found = store.dossiers.lookup(body.code, body.secret)
        if found is None:
            limiter.failed(key)
            raise StoreError("not_found", "no dossier with this code and secret")
        return {"dossier": found}

    @app.get("/api/v1/board", tags=["public"])
    def board() -> dict[str, Any]:
        return store.dossiers.board(s.board_ready_limit)

    @app.post("/api/v1/dossiers", tags=["staff"], status_code=201)
    def create(body: DossierIn, p: Staff) -> dict[str, Any]:
        return {"dossier": store.dossiers.create(body, p.name)}

    @app.get("/api/v1/dossiers/export", tags=["admin"])
    def dossiers_export(p: Admin, format: Literal["json", "csv"] = "json") -> PlainTextResponse:
        media = "application/json" if format == "json" else "text/csv"
        return PlainTextResponse(export_dossiers(store.dossiers, format), media_type=media)

    @app.post("/api/v1/dossiers/import", tags=["admin"])
    def dossiers_import(body: DossiersImport, p: Admin) -> dict[str, Any]:
        items = import_rows(body.dossiers, body.csv, DossierImport, "dossiers")
        return {"imported": import_dossiers(store.dossiers, items)}

    @app.get("/api/v1/dossiers/{code}", tags=["staff"])
    def get(code: str, p: Staff) -> dict[str, Any]:
        found = store.dossiers.get(code)
        if found is None:
            raise StoreError("not_found", f"no dossier {code!r}")
        return {"dossier": found}

    @app.patch("/api/v1/dossiers/{code}", tags=["staff"])
    def patch(code: str, body: DossierUpdate, p: Staff) -> dict[str, Any]:
        return {"dossier": store.dossiers.update(code, body, p.name)}

    @app.post("/api/v1/dossiers/{code}/stage", tags=["staff"])
    def stage(code: str, body: StageMove, p: Staff) -> dict[str, Any]:
        return {"dossier": store.dossiers.move_stage(code, body, p.name)}

    @app.put("/api/v1/users", tags=["admin"])
    def set_user(body: UserIn, p: Admin) -> dict[str, Any]:
        store.users.set_user(body.name, body.role, password=body.password)
        return {"name": body.name, "role": body.role}

    return app
