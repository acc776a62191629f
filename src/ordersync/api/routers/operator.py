"""Back office (dj-client: OPERATOR)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from ordersync.api.deps import OperatorCaller, UowFactoryDep, set_etag
from ordersync.api.schemas import ErrorOut, OrderOut
from ordersync.services import operator_orders
from ordersync.services.data_bundle import load_bundle

router = APIRouter(tags=["operator"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or unknown API key"},
    403: {"model": ErrorOut, "description": "Not an OPERATOR client"},
    404: {"model": ErrorOut, "description": "Not found"},
    422: {"model": ErrorOut, "description": "Invalid body"},
}


@router.post(
    "/v1/operator/data",
    responses=_ERRORS,
    summary="Load a data bundle (SPEC §6), idempotently by externalId",
)
def load_data_bundle(
    caller: OperatorCaller,
    uow_factory: UowFactoryDep,
    bundle: dict[str, Any] = Body(
        examples=[
            {"suppliers": [{"externalId": "SUP-NEW", "name": "New Supplier", "status": "ACTIVE"}]}
        ]
    ),
) -> dict[str, int]:
    return load_bundle(uow_factory(), bundle)


@router.get(
    "/v1/operator/commercial-orders/{reference}",
    response_model=OrderOut,
    responses=_ERRORS,
    summary="Any commercial order, with logistic orders and lines",
)
def get_any_commercial_order(
    reference: str, caller: OperatorCaller, uow_factory: UowFactoryDep, response: Response
) -> OrderOut:
    order = operator_orders.get_any_order(uow_factory(), reference)
    set_etag(response, order.version)
    return OrderOut.of(order)
