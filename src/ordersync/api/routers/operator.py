"""Back office (dj-client: OPERATOR)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from ordersync.adapters.csv.writer import csv_rows
from ordersync.api import examples
from ordersync.api.bodies import received_body
from ordersync.api.deps import (
    HistorySource,
    IdempotencyKey,
    IfMatch,
    OperatorCaller,
    PageOnly,
    SettingsDep,
    UowFactoryDep,
    paging,
    set_etag,
)
from ordersync.api.routing import OrdersyncRoute
from ordersync.api.schemas.common import ErrorOut, HistoryEntryOut, HistoryPageOut
from ordersync.api.schemas.operator import (
    ImportJobCreatedOut,
    ImportJobOut,
    LogisticOrderPageOut,
    LogisticOrderPatchIn,
    LogisticOrderSummaryOut,
)
from ordersync.api.schemas.shop import LogisticOrderOut, OrderOut
from ordersync.domain.errors import ErrorCode, Unprocessable
from ordersync.domain.imports import ImportType
from ordersync.domain.listing import LogisticOrderFilter
from ordersync.domain.paging import (
    PageRequest,
    split_values,
)
from ordersync.jobs.bundle_load import load_in_child
from ordersync.rules.logistic_orders import LogisticOrderPatch, parse_status
from ordersync.services import history, imports, logistic_orders, operator_orders
from ordersync.services.data_bundle import load_validated_bundle, parse_bundle
from ordersync.services.logistic_orders import (
    DEFAULT_LOGISTIC_ORDER_SORT,
    LOGISTIC_ORDER_SORT_FIELDS,
)

router = APIRouter(tags=["operator"], route_class=OrdersyncRoute)
PAGING = paging(LOGISTIC_ORDER_SORT_FIELDS, DEFAULT_LOGISTIC_ORDER_SORT)

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or unknown API key"},
    403: {"model": ErrorOut, "description": "Not an OPERATOR client"},
    404: {"model": ErrorOut, "description": "Not found"},
    422: {"model": ErrorOut, "description": "Invalid body"},
}


@router.post(
    "/v1/operator/data",
    responses={**_ERRORS, 200: examples.answer({"settings": 1, "suppliers": 1, "orders": 0})},
    summary="Load a data bundle (SPEC §6), idempotently by externalId",
    description="The body is the bundle document (application/json). Bundles larger than "
    "ORDERSYNC_BUNDLE_INLINE_BYTES are streamed to a temporary file and loaded in a child "
    "process, so the server keeps serving meanwhile.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "suppliers": [
                            {"externalId": "SUP-NEW", "name": "New Supplier", "status": "ACTIVE"}
                        ]
                    },
                }
            },
        }
    },
)
async def load_data_bundle(
    request: Request, caller: OperatorCaller, uow_factory: UowFactoryDep
) -> dict[str, int]:
    settings = request.app.state.settings
    async with received_body(request, settings.bundle_inline_bytes) as body:
        if isinstance(body, Path):
            return await load_in_child(settings, body)
        return await anyio.to_thread.run_sync(
            lambda: load_validated_bundle(uow_factory(), parse_bundle(body))
        )


@router.get(
    "/v1/operator/commercial-orders/{reference}",
    response_model=OrderOut,
    responses={**_ERRORS, 200: examples.answer(examples.ORDER)},
    summary="Any commercial order, with logistic orders and lines",
)
def get_any_commercial_order(
    reference: str, caller: OperatorCaller, uow_factory: UowFactoryDep, response: Response
) -> OrderOut:
    order = operator_orders.get_any_order(uow_factory(), reference)
    set_etag(response, order.version)
    return OrderOut.of(order)


@router.get(
    "/v1/operator/logistic-orders",
    response_model=LogisticOrderPageOut,
    responses={**_ERRORS, 200: examples.answer(examples.LOGISTIC_ORDER_PAGE)},
    summary="List logistic orders of every account",
    description="Sortable fields: createdAt, updatedAt, reference, status; default "
    "createdAt:desc then reference:asc.",
)
def list_logistic_orders(
    caller: OperatorCaller,
    uow_factory: UowFactoryDep,
    page_request: Annotated[PageRequest, Depends(PAGING)],
    status: Annotated[
        list[str] | None,
        Query(
            description=(
                "Repeatable or comma-separated; ORDER_DRAFT_ON_HOLD is read as DRAFT_ORDER_ON_HOLD"
            )
        ),
    ] = None,
    supplier: Annotated[str | None, Query(description="Supplier external id")] = None,
    account: Annotated[str | None, Query(description="Account external id")] = None,
    created_from: Annotated[datetime | None, Query(alias="createdFrom")] = None,
    created_to: Annotated[datetime | None, Query(alias="createdTo")] = None,
) -> LogisticOrderPageOut:
    statuses = tuple(parse_status(v) for v in split_values(status))
    result = logistic_orders.list_logistic_orders(
        uow_factory(),
        LogisticOrderFilter(statuses, supplier, account, created_from, created_to),
        page_request,
    )
    return LogisticOrderPageOut.of(result, LogisticOrderSummaryOut.of)


@router.patch(
    "/v1/operator/logistic-orders/{reference}",
    response_model=LogisticOrderOut,
    responses={
        200: examples.answer(examples.LOGISTIC_ORDER),
        **_ERRORS,
        409: {
            "model": ErrorOut,
            "description": ("externalId already set, or held by another logistic order"),
        },
        412: {"model": ErrorOut, "description": "If-Match names another version"},
    },
    summary="Move status forward, set externalId once, change the shipping address",
)
def patch_logistic_order(
    reference: str,
    body: Annotated[LogisticOrderPatchIn, Body(openapi_examples=examples.PATCH_BODIES)],
    caller: OperatorCaller,
    uow_factory: UowFactoryDep,
    expected: IfMatch,
    response: Response,
) -> LogisticOrderOut:
    patch = LogisticOrderPatch(
        status=parse_status(body.status) if body.status is not None else None,
        external_id=body.external_id,
        shipping_address=body.shipping_address.model_dump(by_alias=True)
        if body.shipping_address
        else None,
    )
    result = logistic_orders.patch_logistic_order(uow_factory, reference, patch, if_match=expected)
    set_etag(response, result.order.version)
    return LogisticOrderOut.of(result.logistic_order, result.order.currency)


# --- CSV import jobs and the export (SPEC §4) --------------------------------------------------

CSV = "text/csv; charset=utf-8"


def _csv_response(name: str, header: list[str], rows: Iterator[Sequence[str | None]]) -> Response:
    return StreamingResponse(
        csv_rows(header, rows),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/v1/operator/import-jobs",
    status_code=202,
    response_model=ImportJobCreatedOut,
    responses={
        **_ERRORS,
        202: examples.answer({"jobId": "5f0c…", "status": "PENDING"}, "Accepted"),
        413: {"model": ErrorOut, "description": "File over the upload limit"},
        422: {"model": ErrorOut, "description": "The file is refused whole (IMPORT_FILE_INVALID)"},
    },
    summary="Upload a CSV that updates internal orders (an import job)",
    description="Multipart: `file` (CSV, UTF-8 with or without BOM, comma or semicolon), "
    "`type` INTERNAL_ORDER_UPDATE, `dryRun`. The rows are staged and the job runs on the "
    "queue; follow it with GET /v1/operator/import-jobs/{jobId}.",
)
def create_import_job(
    request: Request,
    caller: OperatorCaller,
    _idempotency: IdempotencyKey,
    uow_factory: UowFactoryDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The CSV file")],
    type: Annotated[str, Form(description="INTERNAL_ORDER_UPDATE")] = "INTERNAL_ORDER_UPDATE",
    dry_run: Annotated[bool, Form(alias="dryRun")] = False,
) -> ImportJobCreatedOut:
    if type != ImportType.INTERNAL_ORDER_UPDATE:
        raise Unprocessable(
            ErrorCode.IMPORT_TYPE_UNKNOWN,
            f"Unknown import type {type!r}; expected INTERNAL_ORDER_UPDATE.",
        )
    job = imports.submit_import(
        uow_factory,
        request.app.state.dispatcher.enqueue_import,
        caller,
        file.file,
        file_name=file.filename,
        dry_run=dry_run,
        partitions=settings.import_partitions,
    )
    return ImportJobCreatedOut(job_id=job.id, status=job.status.value)


@router.get(
    "/v1/operator/import-jobs/{job_id}",
    response_model=ImportJobOut,
    responses={**_ERRORS, 200: examples.answer(examples.IMPORT_JOB)},
    summary="An import job: status, row counts, times",
)
def get_import_job(
    job_id: str, caller: OperatorCaller, uow_factory: UowFactoryDep
) -> ImportJobOut:
    return ImportJobOut.of(imports.get_job(uow_factory(), job_id))


@router.get(
    "/v1/operator/import-jobs/{job_id}/report",
    response_class=StreamingResponse,
    responses={
        **_ERRORS,
        200: {
            "content": {
                CSV: {
                    "example": "Order Reference,Order Line Id,Order Line Quantity,Line Number,"
                    "Result,Error Code,Error Message\r\n260-211-8089581-1,13,200,2,SUCCESS,,\r\n"
                }
            },
            "description": "Every input column, then Line Number, Result, Error Code, "
            "Error Message",
        },
    },
    summary="The job's report (CSV, streamed)",
)
def get_import_job_report(
    job_id: str, caller: OperatorCaller, uow_factory: UowFactoryDep
) -> Response:
    header, rows = imports.job_report(uow_factory, job_id)
    return _csv_response(f"import-{job_id}-report.csv", header, rows)


@router.get(
    "/v1/operator/orders/export",
    response_class=StreamingResponse,
    responses={
        **_ERRORS,
        200: {
            "content": {
                CSV: {
                    "example": "Order External Id,Order Reference,Order Line External Id,"
                    "Order Line Id,…\r\n,260-211-8089581-1,,13,…\r\n"
                }
            },
            "description": "The import's columns, one row per order line",
        },
    },
    summary="Export internal orders in the import's layout (CSV, streamed)",
)
def export_internal_orders(
    caller: OperatorCaller,
    uow_factory: UowFactoryDep,
    status: Annotated[list[str] | None, Query(description="Repeatable or comma-separated")] = None,
    supplier: Annotated[str | None, Query(description="Supplier external id")] = None,
    account: Annotated[str | None, Query(description="Account external id")] = None,
    created_from: Annotated[datetime | None, Query(alias="createdFrom")] = None,
    created_to: Annotated[datetime | None, Query(alias="createdTo")] = None,
) -> Response:
    statuses = tuple(parse_status(v) for v in split_values(status))
    header, rows = imports.export_orders(
        uow_factory, LogisticOrderFilter(statuses, supplier, account, created_from, created_to)
    )
    return _csv_response("internal-orders.csv", header, rows)


@router.get(
    "/v1/operator/commercial-orders/{reference}/history",
    response_model=HistoryPageOut,
    responses={**_ERRORS, 200: examples.answer(examples.HISTORY_PAGE)},
    summary="The order's history: one entry per write, newest first",
)
def get_order_history(
    reference: str,
    caller: OperatorCaller,
    uow_factory: UowFactoryDep,
    page_request: PageOnly,
    source: HistorySource = None,
) -> HistoryPageOut:
    result = history.order_history(uow_factory(), reference, page_request, source)
    return HistoryPageOut.of(result, HistoryEntryOut.of)
