"""The CSV bulk update of internal orders (SPEC §4, seed "Update an Internal Order"): its
columns, its jobs and the stable codes of what can go wrong with a file or a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

# Rows applied per transaction (ORDERSYNC_IMPORT_CHUNK_ROWS): each chunk holds its rows,
# their orders and lines in memory (two chunks at once on PostgreSQL, one being written while
# the next is read), and its rows' results are its checkpoint. 5,000: 20 % faster than 2,000
# (100,000 rows in-process, stop 17), and 10,000 no faster for 40 % more memory.
DEFAULT_CHUNK_ROWS = 5_000


class Column(StrEnum):
    """The seed's column names, exactly; a file may hold them in any order."""

    ORDER_EXTERNAL_ID = "Order External Id"
    ORDER_REFERENCE = "Order Reference"
    LINE_EXTERNAL_ID = "Order Line External Id"
    LINE_ID = "Order Line Id"
    ACCOUNT_EXTERNAL_ID = "Account External Id"
    SUPPLIER_EXTERNAL_ID = "Supplier External Id"
    NET_UNIT_PRICE = "Net Unit Price"
    QUANTITY = "Order Line Quantity"
    OFFER_PRICE_EXTERNAL_ID = "Offer Price External Id"
    VARIANT_EXTERNAL_ID = "Variant External Id"
    STATUS = "Order Status"
    GROSS_UNIT_PRICE = "Gross Unit Price"
    CLASSIFICATION_EXTERNAL_ID = "Classification External Id"
    CUSTOMER_EXTERNAL_ID = "Customer External Id"
    TAX_AMOUNT = "Tax Amount"
    VARIANT_NAME = "Variant Name"
    VARIANT_DESCRIPTION = "Variant Description"
    ADDRESS_FULL_NAME = "Shipping Address Full Name"
    ADDRESS_COUNTRY = "Shipping Address Country"
    ADDRESS_STREET_NAME = "Shipping Address Street Name"
    ADDRESS_CITY = "Shipping Address City"
    ADDRESS_ZIP_CODE = "Shipping Address Zip Code"
    ADDRESS_STATE = "Shipping Address State"
    ADDRESS_ADDITIONAL = "Shipping Address (Additional)"
    MARK_FOR_DELETION = "Mark Order Line For Deletion"


# The seed's all-or-none rule: any of these filled makes all of them required (not State
# and Additional). Keys are the shipping address's JSON keys.
ADDRESS_REQUIRED: dict[Column, str] = {
    Column.ADDRESS_FULL_NAME: "fullName",
    Column.ADDRESS_STREET_NAME: "streetName",
    Column.ADDRESS_CITY: "city",
    Column.ADDRESS_ZIP_CODE: "zipCode",
    Column.ADDRESS_COUNTRY: "country",
}
ADDRESS_OPTIONAL: dict[Column, str] = {
    Column.ADDRESS_STATE: "state",
    Column.ADDRESS_ADDITIONAL: "additional",
}

# The report repeats every input column, then these.
REPORT_COLUMNS = ("Line Number", "Result", "Error Code", "Error Message")


class ImportType(StrEnum):
    INTERNAL_ORDER_UPDATE = "INTERNAL_ORDER_UPDATE"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    PARTIALLY_SUCCEEDED = "PARTIALLY_SUCCEEDED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_SUCCEEDED, JobStatus.FAILED)


class RowResult(StrEnum):
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"


class RowCode(StrEnum):
    """Why a row was refused. The seed's F-E codes, then ours for the status, linkage and
    set-once rules (listed in the README)."""

    REQUIRED = "F-E-001"  # a required (or conditionally required) field is missing
    UNKNOWN_REFERENCE = "F-E-002"  # no such order, line, offer price, variant or customer
    DUPLICATE = "F-E-003"  # the same line appears again in the file
    NOT_A_NUMBER = "F-E-006"
    OUT_OF_RANGE = "F-E-007"
    UNEXPECTED_VALUE = "F-E-008"  # not one of the values an enum allows
    WRONG_FORMAT = "F-E-012"  # text too long, not valid text, too many fields
    STATUS_TRANSITION_NOT_ALLOWED = "STATUS_TRANSITION_NOT_ALLOWED"  # backwards
    STATUS_FINAL = "STATUS_FINAL"  # the logistic order's status is final
    FIELD_NOT_EDITABLE_IN_STATUS = "FIELD_NOT_EDITABLE_IN_STATUS"  # SPEC §4 table
    EXTERNAL_ID_ALREADY_SET = "EXTERNAL_ID_ALREADY_SET"  # set once, then never changed
    EXTERNAL_ID_TAKEN = "EXTERNAL_ID_TAKEN"  # another order or line holds it
    OFFER_VARIANT_MISMATCH = "OFFER_VARIANT_MISMATCH"  # the offer is not of that variant
    OFFER_SUPPLIER_MISMATCH = "OFFER_SUPPLIER_MISMATCH"  # not the logistic order's supplier
    ORDER_MISMATCH = "ORDER_MISMATCH"  # account/supplier/line of another order than named
    CUSTOM_FIELD_INVALID = "CUSTOM_FIELD_INVALID"
    AMOUNT_TOO_LARGE = "AMOUNT_TOO_LARGE"


class FileCode(StrEnum):
    """Why a whole file was refused (nothing applied)."""

    EMPTY = "IMPORT_FILE_EMPTY"
    NOT_UTF8 = "IMPORT_FILE_NOT_UTF8"
    UNKNOWN_COLUMN = "IMPORT_COLUMN_UNKNOWN"
    DUPLICATE_COLUMN = "IMPORT_COLUMN_DUPLICATED"
    MALFORMED = "IMPORT_FILE_MALFORMED"


class RowOutcome(NamedTuple):
    """One per row of an import (a named tuple: rules.quantities says why)."""

    line_number: int
    result: RowResult
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ImportJob:
    id: str
    type: ImportType
    dry_run: bool
    status: JobStatus
    file_name: str | None
    columns: tuple[str, ...]
    total: int
    processed: int
    succeeded: int
    failed: int
    error_code: str | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
