"""Resolving the caller from the request headers (SPEC §2)."""

from __future__ import annotations

from dataclasses import dataclass

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller, ClientType
from ordersync.domain.api_keys import hash_api_key
from ordersync.domain.errors import ErrorCode, Forbidden, Unauthorized


@dataclass(frozen=True)
class AccessHeaders:
    client: str | None
    api_key: str | None
    store: str | None = None
    store_view: str | None = None
    customer_account: str | None = None


def resolve_caller(uow: UnitOfWork, headers: AccessHeaders) -> Caller:
    """401 for a missing or unknown key or a key of another client type; 403 for a store,
    store view or account the user is not attached to."""
    if not headers.client or not headers.api_key:
        raise Unauthorized(
            ErrorCode.AUTHENTICATION_REQUIRED, "The dj-client and dj-api-key headers are required."
        )
    with uow:
        user = uow.access.user_by_key_hash(hash_api_key(headers.api_key))
        if user is None or user.client_type != headers.client.strip().upper():
            raise Unauthorized(ErrorCode.INVALID_API_KEY, "Unknown API key for this client type.")
        client_type = ClientType(user.client_type)
        if client_type is not ClientType.ACCOUNT:
            # Store, store view and account scope a buyer; other clients are refused or
            # served by their own routes.
            return Caller(
                user.id,
                user.external_id,
                client_type,
                None,
                None,
                None,
                supplier_id=user.supplier_id,
            )
        store = uow.access.store(headers.store)
        if store is None or store.id not in user.store_ids:
            raise Forbidden(
                ErrorCode.STORE_FORBIDDEN,
                f"The user is not attached to store {headers.store or '(default)'}.",
            )
        store_view_id = None
        if headers.store_view:
            view = uow.access.store_view(headers.store_view)
            if view is None or view.parent_id != store.id:
                raise Forbidden(
                    ErrorCode.STORE_VIEW_FORBIDDEN,
                    f"Store view {headers.store_view} is not in store {store.external_id}.",
                )
            store_view_id = view.id
        account_id = user.account_ids[0] if user.account_ids else None
        if headers.customer_account:
            account = uow.access.account(headers.customer_account)
            if account is None or account.id not in user.account_ids:
                raise Forbidden(
                    ErrorCode.ACCOUNT_FORBIDDEN,
                    f"The user may not act for account {headers.customer_account}.",
                )
            account_id = account.id
        return Caller(
            user.id,
            user.external_id,
            client_type,
            store.id,
            store_view_id,
            account_id,
            user.account_ids,
            user.supplier_id,
            account_active=account_id not in user.inactive_account_ids,
        )


def require(caller: Caller, client_type: ClientType) -> Caller:
    """Front-office routes are for ACCOUNT users, back-office ones for OPERATOR users."""
    if caller.client_type is not client_type:
        raise Forbidden(
            ErrorCode.CLIENT_TYPE_FORBIDDEN, f"This endpoint is for {client_type.value} clients."
        )
    if client_type is ClientType.ACCOUNT and caller.account_id is None:
        raise Forbidden(ErrorCode.ACCOUNT_FORBIDDEN, "The user has no customer account.")
    return caller


def ensure_can_write(caller: Caller) -> None:
    """An INACTIVE account's orders can be read but not written (SPEC §2)."""
    if not caller.account_active:
        raise Forbidden(
            ErrorCode.ACCOUNT_INACTIVE,
            "The account is inactive: its orders can be read but not changed.",
        )
