"""The reference CPQ system (SPEC §5.2): `POST /transactions` creates a transaction,
`PUT /transactions/{transactionId}` updates it; transactions live in memory.

- Transaction ids are `TXN-000001`, `TXN-000002`, … in the order of creation.
- A create carrying an `Idempotency-Key` already seen answers what the first create with
  that key answered and creates nothing, whatever its body: a client's retried create is
  safe. Updates ignore the key (an update is idempotent by itself).
- Line numbers are "1", "2", … in the order the transaction first saw each `lineId`; they
  stay with their line across updates, a new line takes the next number, and the number of
  a line that left the order is never given again.
- Each line's CPQ `unitPrice` is its `netUnitPrice`, with one "Handling" charge of 0.50 a
  unit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import Field

from ordersync.simulators.faults import (
    IDEMPOTENCY_KEY,
    Call,
    FaultSettings,
    LineFaults,
    SimulatorState,
    WireModel,
    answer_call,
    control_router,
    error_response,
    validated,
)

CREATE_ROUTE = "POST /transactions"
UPDATE_ROUTE = "PUT /transactions/{transactionId}"
HANDLING_NAME = "Handling"
HANDLING_UNIT_PRICE = Decimal("0.50")
CENT = Decimal("0.01")
LINE_FAULTS = LineFaults(
    price_field="unitPrice",
    unknown_line={
        "txnLineNumber": "999",
        "unitPrice": "1.00",
        "charges": [],
        "syncInfo": {"status": "completed", "errorMessage": None},
    },
)


class TransactionLineIn(WireModel):
    line_id: str
    variant_external_id: str
    offer_price_external_id: str
    quantity: int
    net_unit_price: Decimal
    gross_unit_price: Decimal
    tax_amount: Decimal
    total_net: Decimal
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class TransactionIn(WireModel):
    reference: str
    account_external_id: str
    store_external_id: str
    currency: str
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    lines: list[TransactionLineIn]


@dataclass
class Transaction:
    id: str
    line_numbers: dict[str, str] = field(default_factory=dict)  # by line id

    def number(self, line_ids: Iterable[str]) -> None:
        """Give each line not seen before the next number."""
        for line_id in line_ids:
            if line_id not in self.line_numbers:
                self.line_numbers[line_id] = str(len(self.line_numbers) + 1)


def handling_charge(quantity: int) -> dict[str, str]:
    amount = (HANDLING_UNIT_PRICE * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    return {
        "name": HANDLING_NAME,
        "unitPrice": str(HANDLING_UNIT_PRICE),
        "amount": str(amount),
        "priceType": "oneTime",
    }


def answer(transaction: Transaction, body: TransactionIn) -> dict[str, Any]:
    return {
        "transactionId": transaction.id,
        "lines": [
            {
                "lineId": line.line_id,
                "txnLineNumber": transaction.line_numbers[line.line_id],
                "unitPrice": format(line.net_unit_price, "f"),
                "charges": [handling_charge(line.quantity)],
                "syncInfo": {"status": "completed", "errorMessage": None},
            }
            for line in body.lines
        ],
    }


class TransactionBook:
    """Every transaction of this process, and the answer each idempotency key got."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._transactions: dict[str, Transaction] = {}
        self._answers_by_key: dict[str, dict[str, Any]] = {}

    def create(self, body: TransactionIn, idempotency_key: str | None) -> dict[str, Any]:
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._answers_by_key:
                return self._answers_by_key[idempotency_key]
            transaction = Transaction(f"TXN-{len(self._transactions) + 1:06d}")
            self._transactions[transaction.id] = transaction
            transaction.number(line.line_id for line in body.lines)
            created = answer(transaction, body)
            if idempotency_key is not None:
                self._answers_by_key[idempotency_key] = created
            return created

    def update(self, transaction_id: str, body: TransactionIn) -> dict[str, Any] | None:
        with self._lock:
            transaction = self._transactions.get(transaction_id)
            if transaction is None:
                return None
            transaction.number(line.line_id for line in body.lines)
            return answer(transaction, body)


def create_cpq_simulator() -> FastAPI:
    """The CPQ simulator's app, with an empty book of transactions (it needs no database)."""
    state = SimulatorState(FaultSettings(), routes=[CREATE_ROUTE, UPDATE_ROUTE])
    book = TransactionBook()
    app = FastAPI(
        title="ordersync CPQ simulator",
        description="SPEC §5.2, with faults switched at run time through /_control.",
    )
    app.state.simulator = state
    app.include_router(control_router(state, FaultSettings))

    @app.post("/transactions", tags=["cpq"])
    async def create_transaction(request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_KEY)

        async def handle(call: Call[FaultSettings]) -> dict[str, Any] | Response:
            body = validated(TransactionIn, call.body)
            return body if isinstance(body, Response) else book.create(body, key)

        return await answer_call(state, CREATE_ROUTE, request, handle, LINE_FAULTS)

    @app.put("/transactions/{transaction_id}", tags=["cpq"])
    async def update_transaction(transaction_id: str, request: Request) -> Response:
        async def handle(call: Call[FaultSettings]) -> dict[str, Any] | Response:
            body = validated(TransactionIn, call.body)
            if isinstance(body, Response):
                return body
            updated = book.update(transaction_id, body)
            if updated is None:
                return error_response(
                    404, "TRANSACTION_NOT_FOUND", f"No transaction {transaction_id}."
                )
            return updated

        return await answer_call(state, UPDATE_ROUTE, request, handle, LINE_FAULTS)

    return app
