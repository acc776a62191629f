"""Back-office bodies: logistic orders, import jobs (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints

from ordersync.api.answers import logistic_order_answer
from ordersync.api.schemas.common import Body, Id, PageOut
from ordersync.domain.imports import ImportJob
from ordersync.domain.listing import LogisticOrderRow


class ShippingAddressIn(Body):
    """All of fullName, streetName, city, zipCode and country, or no address at all."""

    external_id: Id | None = None
    full_name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    street_name: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    city: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    zip_code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    country: Annotated[str, StringConstraints(min_length=2, max_length=64)]
    state: Annotated[str, StringConstraints(max_length=256)] | None = None
    additional: Annotated[str, StringConstraints(max_length=512)] | None = None


class LogisticOrderPatchIn(Body):
    status: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    external_id: Id | None = None
    shipping_address: ShippingAddressIn | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "WAITING_SUPPLIER_APPROVAL"},
                {"externalId": "ERP-SO-48211"},
                {
                    "shippingAddress": {
                        "fullName": "Jane Doe",
                        "streetName": "1 rue de la Paix",
                        "city": "Paris",
                        "zipCode": "75002",
                        "country": "FR",
                    }
                },
            ]
        }
    )


class LogisticOrderSummaryOut(Body):
    id: int
    reference: str
    external_id: str | None
    commercial_order_reference: str
    account_id: int
    account_external_id: str
    supplier_id: int
    supplier_external_id: str
    status: str
    shipping_address: dict[str, Any] | None
    total_net: str
    total_tax: str
    total_gross: str
    line_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: LogisticOrderRow) -> LogisticOrderSummaryOut:
        return cls.model_validate(
            logistic_order_answer(vars(row), row.currency)
            | {
                "commercialOrderReference": row.commercial_order_reference,
                "accountId": row.account_id,
                "accountExternalId": row.account_external_id,
                "lineCount": row.line_count,
            }
        )


class LogisticOrderPageOut(PageOut[LogisticOrderSummaryOut]):
    pass


class ImportFileErrorOut(Body):
    code: str
    message: str


class ImportJobOut(Body):
    job_id: str
    type: str
    dry_run: bool
    status: str
    file_name: str | None
    total: int
    processed: int
    succeeded: int
    failed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: ImportFileErrorOut | None

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobOut:
        return cls(
            job_id=job.id,
            type=job.type.value,
            dry_run=job.dry_run,
            status=job.status.value,
            file_name=job.file_name,
            total=job.total,
            processed=job.processed,
            succeeded=job.succeeded,
            failed=job.failed,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=ImportFileErrorOut(code=job.error_code, message=job.error_message or "")
            if job.error_code
            else None,
        )


class ImportJobCreatedOut(Body):
    job_id: str
    status: str
