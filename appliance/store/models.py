"""Validated shapes of what comes in (HTTP bodies, import rows). Errors name the field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from appliance.store.stages import STAGES
from appliance.store.text import checked

Text = Annotated[str, Field(max_length=4000), AfterValidator(checked)]
ShortText = Annotated[str, Field(max_length=200), AfterValidator(checked)]
ProcCode = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")]
DossierCode = Annotated[str, Field(pattern=r"^[0-9A-Z][0-9A-Z.\-]{4,59}$")]
Phone = Annotated[str, Field(pattern=r"^[0-9+ ().-]{0,40}$")]
UserName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")]
StageName = Annotated[str, Field(pattern="^(" + "|".join(STAGES) + ")$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Document(_In):
    name: Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(checked)]
    original: int = Field(default=0, ge=0, le=100)
    copies: int = Field(default=0, ge=0, le=100)


class ProcedureIn(_In):
    code: ProcCode
    name: Annotated[str, Field(min_length=2, max_length=1000), AfterValidator(checked)]
    sector: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(checked)]
    level: ShortText = ""
    agency: Text = ""
    processing_days: int = Field(ge=0, le=365)
    fee: Text = ""
    method: Text = ""
    applicant: Text = ""
    result: Text = ""
    legal_basis: Text = ""
    conditions: Text = ""
    steps: list[Text] = Field(default=[], max_length=50)
    documents: list[Document] = Field(default=[], max_length=100)


class DossierIn(_In):
    """A dossier received at a counter (the store gives it its code and secret)."""

    procedure_code: ProcCode
    applicant_name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(checked)]
    applicant_phone: Phone = ""
    applicant_address: Text = ""
    # the server's clock unless an admin corrects it, with a reason (recorded in the audit)
    received_at: datetime | None = None
    received_at_reason: ShortText = ""
    missing: list[ShortText] = Field(default=[], max_length=50)
    note: Text = ""


class DeskDossierIn(_In):
    """A dossier received at the desk: every field of the receipt (Mẫu 01)."""

    procedure_code: ProcCode
    applicant_name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(checked)]
    # số định danh cá nhân (CCCD): 12 digits; empty when the applicant is an organisation
    applicant_id: Annotated[str, Field(pattern=r"^([0-9]{12})?$")] = ""
    applicant_phone: Phone = ""
    applicant_email: Annotated[str, Field(max_length=200,
                                          pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")] = ""
    applicant_address: Text = ""
    channel: Literal["counter", "online", "post"] = "counter"
    sets: int = Field(default=1, ge=1, le=20)
    documents: list[Document] = Field(default=[], max_length=100)
    fee_due: int = Field(default=0, ge=0, le=10_000_000_000)
    fee_paid: int = Field(default=0, ge=0, le=10_000_000_000)
    return_method: Literal["counter", "post"] = "counter"
    return_address: Text = ""
    note: Text = ""
    received_at: datetime | None = None
    received_at_reason: ShortText = ""


class DossierUpdate(_In):
    applicant_name: Annotated[str, Field(min_length=1, max_length=200),
                              AfterValidator(checked)] | None = None
    applicant_phone: Phone | None = None
    applicant_address: Text | None = None
    missing: list[ShortText] | None = Field(default=None, max_length=50)
    pickup_counter: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")] | None = None
    note: Text | None = None


class StageMove(_In):
    stage: StageName
    note: Text = ""
    public: bool = False  # may the note be shown on the kiosk and the public lookup?
    to_user: Annotated[str, Field(max_length=80), AfterValidator(checked)] = ""
    missing: list[ShortText] | None = Field(default=None, max_length=50)
    pickup_counter: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")] | None = None


class DossierImport(_In):
    """A dossier pushed from other one-stop software: its own code, times and stage."""

    code: DossierCode
    secret: Annotated[str, Field(pattern=r"^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$")] | None = None
    procedure_code: ProcCode
    applicant_name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(checked)]
    applicant_phone: Phone = ""
    applicant_address: Text = ""
    received_at: datetime
    due_at: datetime | None = None
    stage: StageName = "received"
    ready_at: datetime | None = None
    finished_at: datetime | None = None
    pickup_counter: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")] | None = None
    missing: list[ShortText] = Field(default=[], max_length=50)
    note: Text = ""


class LookupIn(_In):
    code: Annotated[str, Field(max_length=80), AfterValidator(checked)]
    secret: Annotated[str, Field(max_length=20), AfterValidator(checked)]
