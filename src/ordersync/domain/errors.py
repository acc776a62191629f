"""Errors as values: each carries a stable code; the API maps the kind to a status."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    # access
    AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
    INVALID_API_KEY = "INVALID_API_KEY"
    CLIENT_TYPE_FORBIDDEN = "CLIENT_TYPE_FORBIDDEN"
    STORE_FORBIDDEN = "STORE_FORBIDDEN"
    STORE_VIEW_FORBIDDEN = "STORE_VIEW_FORBIDDEN"
    ACCOUNT_FORBIDDEN = "ACCOUNT_FORBIDDEN"
    FEATURE_DISABLED = "FEATURE_DISABLED"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    DUPLICATE_HEADER = "DUPLICATE_HEADER"
    # request shape
    MALFORMED_JSON = "MALFORMED_JSON"
    INVALID_REQUEST = "INVALID_REQUEST"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    TEXT_INVALID = "TEXT_INVALID"
    NUMBER_NOT_FINITE = "NUMBER_NOT_FINITE"
    HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    # orders
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    LOGISTIC_ORDER_NOT_FOUND = "LOGISTIC_ORDER_NOT_FOUND"
    ORDER_NOT_EDITABLE = "ORDER_NOT_EDITABLE"
    ORDER_NOT_ORDER_BASED = "ORDER_NOT_ORDER_BASED"
    VERSION_MISMATCH = "VERSION_MISMATCH"
    CONCURRENT_UPDATE = "CONCURRENT_UPDATE"
    DUPLICATE_LINE_ID = "DUPLICATE_LINE_ID"
    TOO_MANY_LINE_UPDATES = "TOO_MANY_LINE_UPDATES"
    TOO_MANY_LINES = "TOO_MANY_LINES"
    NO_ELIGIBLE_LINE = "NO_ELIGIBLE_LINE"
    LINE_NOT_ON_ORDER = "LINE_NOT_ON_ORDER"
    ORDER_EMPTY = "ORDER_EMPTY"
    ORDER_NOT_IN_SYNC = "ORDER_NOT_IN_SYNC"
    AMOUNT_TOO_LARGE = "AMOUNT_TOO_LARGE"
    OPERATION_NOT_FOUND = "OPERATION_NOT_FOUND"
    OPERATION_NOT_AVAILABLE = "OPERATION_NOT_AVAILABLE"
    # custom fields
    CUSTOM_FIELD_UNKNOWN = "CUSTOM_FIELD_UNKNOWN"
    CUSTOM_FIELD_INVALID = "CUSTOM_FIELD_INVALID"
    CUSTOM_FIELD_REQUIRED = "CUSTOM_FIELD_REQUIRED"
    # logistic orders
    STATUS_UNKNOWN = "STATUS_UNKNOWN"
    STATUS_TRANSITION_NOT_ALLOWED = "STATUS_TRANSITION_NOT_ALLOWED"
    STATUS_FINAL = "STATUS_FINAL"
    FIELD_NOT_EDITABLE_IN_STATUS = "FIELD_NOT_EDITABLE_IN_STATUS"
    EXTERNAL_ID_ALREADY_SET = "EXTERNAL_ID_ALREADY_SET"
    EXTERNAL_ID_TAKEN = "EXTERNAL_ID_TAKEN"
    # data bundle
    BUNDLE_INVALID = "BUNDLE_INVALID"
    # CSV import
    IMPORT_FILE_INVALID = "IMPORT_FILE_INVALID"
    IMPORT_JOB_NOT_FOUND = "IMPORT_JOB_NOT_FOUND"
    IMPORT_TYPE_UNKNOWN = "IMPORT_TYPE_UNKNOWN"
    # idempotency keys (SPEC §7)
    IDEMPOTENCY_KEY_INVALID = "IDEMPOTENCY_KEY_INVALID"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
    # outside systems and infrastructure
    PRICING_UNAVAILABLE = "PRICING_UNAVAILABLE"
    CPQ_UNAVAILABLE = "CPQ_UNAVAILABLE"
    CPQ_DISABLED = "CPQ_DISABLED"
    SYNC_IN_PROGRESS = "SYNC_IN_PROGRESS"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    CATALOG_CHANGED = "CATALOG_CHANGED"
    MIGRATIONS_PENDING = "MIGRATIONS_PENDING"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True)
class FieldError:
    code: str
    field: str | None
    message: str


@dataclass
class OrdersyncError(Exception):
    """Base of every error a client can cause; `status` is the HTTP status it maps to."""

    code: ErrorCode
    message: str
    errors: list[FieldError] = field(default_factory=list)
    status = 400

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __reduce__(self) -> tuple[type[OrdersyncError], tuple[ErrorCode, str, list[FieldError]]]:
        # Rebuilt from its fields (Exception's default pickles `args`, which a dataclass
        # leaves empty): errors raised in a child process reach the parent whole.
        return (type(self), (self.code, self.message, self.errors))


class BadRequest(OrdersyncError):
    status = 400


class Unauthorized(OrdersyncError):
    status = 401


class Forbidden(OrdersyncError):
    status = 403


class NotFound(OrdersyncError):
    status = 404


class Conflict(OrdersyncError):
    status = 409


class PreconditionFailed(OrdersyncError):
    status = 412


class PayloadTooLarge(OrdersyncError):
    status = 413


class Unprocessable(OrdersyncError):
    status = 422


class BadGateway(OrdersyncError):
    """An outside system (pricing, CPQ) failed, timed out or answered nonsense."""

    status = 502


class ServiceUnavailable(OrdersyncError):
    """A dependency of ours (the database) cannot serve now; `retry_after` seconds is a hint."""

    status = 503
    retry_after: int = 5


class StaleWrite(Exception):
    """The order changed under this write (its version moved): the unit of work says so when
    the optimistic lock refuses a commit. Services retry, or answer 409/412."""


class DuplicateValue(Exception):
    """A commit broke a uniqueness rule (another writer took the value first)."""


class CatalogChanged(Exception):
    """A data bundle was loaded while the request ran on cached catalog values: run it
    again on fresh ones (the API does, twice, then answers 503 CATALOG_CHANGED)."""
