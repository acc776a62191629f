"""The resolved caller of a request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ClientType(StrEnum):
    ACCOUNT = "ACCOUNT"
    OPERATOR = "OPERATOR"
    SUPPLIER = "SUPPLIER"


@dataclass(frozen=True)
class Caller:
    user_id: int
    user_external_id: str
    client_type: ClientType
    store_id: int | None  # effective store (None for operators)
    store_view_id: int | None  # from dj-store-view, when given
    account_id: int | None  # effective account (ACCOUNT users only)
    account_ids: tuple[int, ...] = ()  # every account the user may act for
    supplier_id: int | None = None
    account_active: bool = True  # an INACTIVE account's orders are read-only
