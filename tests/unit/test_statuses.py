"""Logistic-order lifecycle: forward only, side exits, final statuses, the SPEC §4 table."""

from __future__ import annotations

import pytest

from ordersync.domain.statuses import (
    STATUS_TABLE,
    EditRights,
    LogisticOrderStatus,
    TransitionRefusal,
    check_transition,
    edit_rights,
)

S = LogisticOrderStatus

FORWARD = [
    S.DRAFT_ORDER,
    S.DRAFT_ORDER_ON_HOLD,
    S.ORDER_CREATED,
    S.WAITING_CUSTOMER_APPROVAL,
    S.WAITING_SUPPLIER_APPROVAL,
    S.ACCEPTED_BY_SUPPLIER,
    S.WAITING_SHIPMENT,
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.COMPLETED,
]
SIDE_EXITS = [S.DECLINED_BY_CUSTOMER, S.DECLINED_BY_SUPPLIER, S.CANCELED]
FINAL = [S.COMPLETED, *SIDE_EXITS]
NON_FINAL = [s for s in S if s not in FINAL]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (FORWARD[i], FORWARD[j])
        for i in range(len(FORWARD) - 1)
        for j in range(i + 1, len(FORWARD))
    ],
)
def test_moving_forward_is_allowed_including_skipping_ahead(
    current: LogisticOrderStatus, target: LogisticOrderStatus
) -> None:
    assert check_transition(current, target) is None


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.DRAFT_ORDER_ON_HOLD, S.DRAFT_ORDER),
        (S.ORDER_CREATED, S.DRAFT_ORDER),
        (S.SHIPPED, S.PARTIALLY_SHIPPED),
        (S.WAITING_SHIPMENT, S.WAITING_CUSTOMER_APPROVAL),
    ],
)
def test_moving_backwards_is_refused(
    current: LogisticOrderStatus, target: LogisticOrderStatus
) -> None:
    assert check_transition(current, target) is TransitionRefusal.BACKWARDS


def test_every_backwards_move_along_the_lifecycle_is_refused() -> None:
    refusals = {
        check_transition(FORWARD[j], FORWARD[i])
        for i in range(len(FORWARD) - 1)
        for j in range(i + 1, len(FORWARD) - 1)  # COMPLETED is final, tested below
    }

    assert refusals == {TransitionRefusal.BACKWARDS}


@pytest.mark.parametrize("current", FINAL)
@pytest.mark.parametrize("target", list(S))
def test_a_final_status_never_changes(
    current: LogisticOrderStatus, target: LogisticOrderStatus
) -> None:
    expected = None if target == current else TransitionRefusal.FROM_FINAL

    assert check_transition(current, target) is expected


@pytest.mark.parametrize("current", NON_FINAL)
@pytest.mark.parametrize("target", SIDE_EXITS)
def test_a_side_exit_is_allowed_from_any_non_final_status(
    current: LogisticOrderStatus, target: LogisticOrderStatus
) -> None:
    assert check_transition(current, target) is None


@pytest.mark.parametrize("status", NON_FINAL)
def test_staying_in_the_same_status_is_a_no_op(status: LogisticOrderStatus) -> None:
    assert check_transition(status, status) is None


def test_refusal_values_are_the_api_error_codes() -> None:
    assert TransitionRefusal.FROM_FINAL.value == "STATUS_FINAL"
    assert TransitionRefusal.BACKWARDS.value == "STATUS_TRANSITION_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ORDER_DRAFT_ON_HOLD", S.DRAFT_ORDER_ON_HOLD),
        ("order_draft_on_hold", S.DRAFT_ORDER_ON_HOLD),
        ("DRAFT_ORDER_ON_HOLD", S.DRAFT_ORDER_ON_HOLD),
        ("shipped", S.SHIPPED),
        ("  Canceled ", S.CANCELED),
    ],
)
def test_parse_accepts_the_csv_spelling_and_any_case(
    text: str, expected: LogisticOrderStatus
) -> None:
    assert S.parse(text) is expected


@pytest.mark.parametrize("text", ["", "DRAFT", "CANCELLED", "ORDER_ON_HOLD"])
def test_parse_rejects_an_unknown_status(text: str) -> None:
    with pytest.raises(ValueError):
        S.parse(text)


# SPEC §4, row by row: lines created/deleted, quantity/prices/tax/names, shipping address, status.
EXPECTED_TABLE = {
    "DRAFT_ORDER": (True, True, True, True),
    "DRAFT_ORDER_ON_HOLD": (True, True, True, True),
    "ORDER_CREATED": (True, True, True, True),
    "WAITING_CUSTOMER_APPROVAL": (False, True, True, True),
    "WAITING_SUPPLIER_APPROVAL": (False, True, True, True),
    "ACCEPTED_BY_SUPPLIER": (False, False, True, True),
    "WAITING_SHIPMENT": (False, False, True, True),
    "PARTIALLY_SHIPPED": (False, False, False, True),
    "SHIPPED": (False, False, False, True),
    "COMPLETED": (False, False, False, False),
    "CANCELED": (False, False, False, False),
    "DECLINED_BY_CUSTOMER": (False, False, False, False),
    "DECLINED_BY_SUPPLIER": (False, False, False, False),
}


def test_status_table_covers_every_status() -> None:
    assert set(STATUS_TABLE) == set(S)
    assert set(EXPECTED_TABLE) == {s.value for s in S}


@pytest.mark.parametrize(("status", "rights"), EXPECTED_TABLE.items())
def test_status_table_matches_the_spec_row(
    status: str, rights: tuple[bool, bool, bool, bool]
) -> None:
    assert edit_rights(S(status)) == EditRights(*rights)
