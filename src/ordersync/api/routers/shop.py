"""Front office (dj-client: ACCOUNT): commercial orders of the caller's account."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response, status
from fastapi.responses import JSONResponse

from ordersync.api import examples
from ordersync.api.answers import json_answer, record_answer, warnings_answer
from ordersync.api.deps import (
    AccountCaller,
    CpqDep,
    HistorySource,
    IdempotencyKey,
    IfMatch,
    PageOnly,
    PricingDep,
    SettingsDep,
    UowFactoryDep,
    paging,
    set_etag,
)
from ordersync.api.routing import OrdersyncRoute
from ordersync.api.schemas.common import (
    ErrorOut,
    HistoryEntryOut,
    HistoryPageOut,
    custom_field_map,
)
from ordersync.api.schemas.shop import (
    CreatedOut,
    CreateOrderIn,
    OfferPriceRef,
    OrderHeaderOut,
    OrderOut,
    OrderPageOut,
    SyncPreviewOut,
    UpdateLinesIn,
    WarningOut,
)
from ordersync.domain.orders import OrderIdType, SourceType
from ordersync.domain.paging import (
    PageRequest,
    split_values,
)
from ordersync.rules.line_updates import MAX_LINES_PER_ORDER
from ordersync.services import cpq_push, history, orders, synchronise, update_lines
from ordersync.services.order_listing import (
    DEFAULT_ORDER_SORT,
    ORDER_SORT_FIELDS,
    OrderListQuery,
    list_orders,
)

router = APIRouter(tags=["shop"], route_class=OrdersyncRoute)
PAGING = paging(ORDER_SORT_FIELDS, DEFAULT_ORDER_SORT)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        401: "Missing or unknown API key, or a key of another client type",
        403: "Wrong client type, or a store/store view/account the user is not attached to",
        404: "No such order for this account",
        409: "The order is placed or comes from a cart-based checkout",
        412: "If-Match names another version",
        413: "Body too large",
        422: "Invalid body, or no eligible line",
    }.items()
}

_WARNINGS_EXAMPLE = [
    {
        "id": "OP-V-0002-ACME",
        "code": "QUANTITY_ADJUSTED_STEP",
        "detail": "Quantity rounded up from 15 to 20, a multiple of 10.",
        "blocked": False,
    },
]


@router.post(
    "/v2/shop/commercial-orders",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedOut,
    responses={**_ERRORS, 201: examples.answer(examples.CREATED, "Created")},
    summary="Create a draft commercial order (order-based checkout)",
)
def create_commercial_order(
    body: Annotated[CreateOrderIn, Body(openapi_examples=examples.CREATE_ORDER_BODIES)],
    caller: AccountCaller,
    _idempotency: IdempotencyKey,
    uow_factory: UowFactoryDep,
    pricing: PricingDep,
    response: Response,
) -> CreatedOut:
    order = orders.create_order(
        uow_factory,
        caller,
        orders.NewOrder(
            source_type=SourceType(body.source_type) if body.source_type else None,
            source_id=body.source_id,
            is_full=body.is_full,
            custom_fields=custom_field_map(body.custom_fields),
            custom_field_id_type=body.custom_field_id_type,
        ),
        pricing,
    )
    assert order.id is not None
    set_etag(response, order.version)
    response.headers["Location"] = f"/v1/shop/commercial-orders/{order.reference}"
    return CreatedOut(id=order.id, reference=order.reference)


@router.get(
    "/v2/shop/commercial-orders",
    response_model=OrderPageOut,
    responses={**_ERRORS, 200: examples.answer(examples.ORDER_PAGE)},
    summary="List the account's commercial orders (headers, no lines)",
    description="Sortable fields: createdAt, updatedAt, validatedAt, reference, sourceType, "
    "sourceId; default createdAt:desc then reference:asc; nulls last.",
)
def list_commercial_orders(
    caller: AccountCaller,
    uow_factory: UowFactoryDep,
    page_request: Annotated[PageRequest, Depends(PAGING)],
    customer_account_ids: Annotated[
        list[str] | None,
        Query(
            alias="customerAccountIds",
            description="Account external ids (comma-separated or "
            "repeated); each must be one of the user's accounts",
        ),
    ] = None,
    is_validated: Annotated[bool | None, Query(alias="isValidated")] = None,
    source_types: Annotated[list[Literal["OPERATION"]] | None, Query(alias="sourceTypes")] = None,
    source_ids: Annotated[list[str] | None, Query(alias="sourceIds")] = None,
) -> OrderPageOut:
    result = list_orders(
        uow_factory(),
        caller,
        OrderListQuery(
            split_values(customer_account_ids),
            is_validated,
            split_values(source_types),
            split_values(source_ids),
        ),
        page_request,
    )
    return OrderPageOut.of(result, OrderHeaderOut.of)


@router.get(
    "/v1/shop/commercial-orders/{order_id}",
    response_model=OrderOut,
    responses={**_ERRORS, 200: examples.answer(examples.ORDER)},
    summary="Get one commercial order with its lines",
)
def get_commercial_order(
    order_id: str,
    caller: AccountCaller,
    uow_factory: UowFactoryDep,
    response: Response,
    id_type: Annotated[OrderIdType, Query(alias="idType")] = OrderIdType.REFERENCE,
) -> Response:
    # The hot read: one statement, and the answer built straight from its rows (the
    # response model only documents it).
    record = orders.read_order(uow_factory(), caller, order_id, id_type)
    return json_answer(record_answer(record), etag=record.values["version"])


@router.put(
    "/v2/shop/commercial-orders/{reference}/lines",
    response_model=list[WarningOut],
    responses={**_ERRORS, 200: {"content": {"application/json": {"example": _WARNINGS_EXAMPLE}}}},
    summary="Update lines (ORDER-150)",
)
def update_commercial_order_lines(
    reference: str,
    body: UpdateLinesIn,
    caller: AccountCaller,
    _idempotency: IdempotencyKey,
    uow_factory: UowFactoryDep,
    pricing: PricingDep,
    expected: IfMatch,
) -> Response:
    result = update_lines.update_lines(
        uow_factory,
        caller,
        reference,
        update_lines.LineUpdateRequest(
            body.line_type,
            body.custom_field_id_type,
            [
                update_lines.RawLineUpdate(
                    ln.id,
                    ln.quantity,
                    ln.update_action,
                    custom_field_map(ln.custom_fields),
                    ln.metadata,
                )
                for ln in body.update_order_commercial_lines
            ],
            body.metadata,
        ),
        pricing,
        if_match=expected,
    )
    return warnings_answer(result.warnings, result.version)


@router.delete(
    "/v2/shop/commercial-orders/{reference}/lines",
    status_code=204,
    responses={**_ERRORS, 204: {"description": "Lines deleted"}},
    summary="Delete lines by offer price external id",
)
def delete_commercial_order_lines(
    reference: str,
    caller: AccountCaller,
    _idempotency: IdempotencyKey,
    uow_factory: UowFactoryDep,
    expected: IfMatch,
    body: Annotated[
        list[OfferPriceRef],
        Body(
            min_length=1,
            max_length=MAX_LINES_PER_ORDER,
            examples=[[{"offerPriceId": "OP-V-0001-ACME"}]],
        ),
    ],
) -> Response:
    version = orders.remove_lines(
        uow_factory, caller, reference, [ref.offer_price_id for ref in body], if_match=expected
    )
    return Response(status_code=204, headers={"ETag": f'"{version}"'})


@router.put(
    "/v1/shop/commercial-orders/{reference}/sync",
    response_model=list[WarningOut],
    responses={
        **_ERRORS,
        200: {
            "content": {
                "application/json": {
                    "examples": {
                        "applied": {
                            "summary": "Warnings of what was applied (or what blocked it)",
                            "value": [
                                {
                                    "id": "OP-V-0001-ACME",
                                    "code": "PRICE_CHANGED",
                                    "detail": "Net unit price 0.42 -> 0.40",
                                    "blocked": False,
                                }
                            ],
                        },
                        "preview": {
                            "summary": "dryRun=true: what it would do (SyncPreviewOut)",
                            "value": examples.SYNC_PREVIEW,
                        },
                    }
                }
            },
            "description": "The warnings; with dryRun=true, the preview (nothing applied)",
        },
        204: {"description": "Nothing to change and nothing to report"},
    },
    summary="Synchronise with current offers (ORDER-223), or preview it with dryRun=true",
)
def synchronise_commercial_order(
    reference: str,
    caller: AccountCaller,
    _idempotency: IdempotencyKey,
    uow_factory: UowFactoryDep,
    pricing: PricingDep,
    expected: IfMatch,
    dry_run: Annotated[
        bool,
        Query(
            alias="dryRun",
            description="Answer what the synchronisation would do, applying nothing",
        ),
    ] = False,
) -> Any:
    if dry_run:
        preview = synchronise.preview_synchronisation(
            uow_factory, caller, reference, pricing, if_match=expected
        )
        return JSONResponse(SyncPreviewOut.of(preview).model_dump(mode="json", by_alias=True))
    result = synchronise.synchronise(uow_factory, caller, reference, pricing, if_match=expected)
    if not result.warnings and not result.changed:
        return Response(status_code=204, headers={"ETag": f'"{result.version}"'})
    return warnings_answer(result.warnings, result.version)


@router.put(
    "/v1/shop/commercial-orders/{reference}/created",
    response_model=OrderOut,
    responses={**_ERRORS, 200: examples.answer({**examples.ORDER, "isValidated": True})},
    summary="Place (validate) a draft order",
)
def place_commercial_order(
    reference: str,
    caller: AccountCaller,
    uow_factory: UowFactoryDep,
    pricing: PricingDep,
    expected: IfMatch,
    response: Response,
) -> OrderOut:
    order = synchronise.place_order(uow_factory, caller, reference, pricing, if_match=expected)
    set_etag(response, order.version)
    return OrderOut.of(order)


@router.post(
    "/v1/shop/commercial-orders/{reference}/actions/synchronize",
    response_model=OrderOut,
    responses={
        **_ERRORS,
        200: examples.answer(examples.CPQ_SYNCED_ORDER),
        409: {
            "model": ErrorOut,
            "description": "A push of this order is in flight (SYNC_IN_PROGRESS)",
        },
        422: {"model": ErrorOut, "description": "No CPQ system is configured (CPQ_DISABLED)"},
        502: {"model": ErrorOut, "description": "CPQ down, timing out or answering invalid data"},
    },
    summary="Push the order to CPQ (create or update its transaction)",
)
def push_commercial_order_to_cpq(
    reference: str,
    caller: AccountCaller,
    _idempotency: IdempotencyKey,
    uow_factory: UowFactoryDep,
    cpq: CpqDep,
    settings: SettingsDep,
    response: Response,
) -> OrderOut:
    order = cpq_push.push_to_cpq(
        uow_factory,
        caller,
        reference,
        cpq,
        lease_seconds=settings.cpq_timeout_s + settings.cpq_lease_margin_s,
    )
    set_etag(response, order.version)
    return OrderOut.of(order)


@router.get(
    "/v1/shop/commercial-orders/{reference}/history",
    response_model=HistoryPageOut,
    responses={**_ERRORS, 200: examples.answer(examples.HISTORY_PAGE)},
    summary="The order's history: one entry per write, newest first",
)
def get_order_history(
    reference: str,
    caller: AccountCaller,
    uow_factory: UowFactoryDep,
    page_request: PageOnly,
    source: HistorySource = None,
) -> HistoryPageOut:
    result = history.order_history(uow_factory(), reference, page_request, source, caller=caller)
    return HistoryPageOut.of(result, HistoryEntryOut.of)
