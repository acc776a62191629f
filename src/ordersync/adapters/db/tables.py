"""Table definitions: the one schema every migration is checked against."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from ordersync.adapters.db.types import ExactDecimal, UtcDateTime
from ordersync.domain.orders import CheckoutType, SourceType
from ordersync.domain.statuses import LogisticOrderStatus

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _enum(enum: type[StrEnum]) -> Enum:
    return Enum(enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


MONEY = ExactDecimal(18, 4)
RATE = ExactDecimal(9, 4)
EXT = String(128)


def _ext() -> Column[str]:
    return Column("external_id", EXT, nullable=False, unique=True)


tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pricing_mode", String(16), nullable=False, default="STANDARD"),
    Column("pricing_url", String(512)),
    Column("cpq_url", String(512)),
    Column("currency", String(3), nullable=False, default="EUR"),
    Column("operations_enabled", Boolean, nullable=False, default=True),
)

# One row (id 1): the catalog's version. Every data-bundle load bumps it first thing in its
# transaction, which also serialises concurrent loads (the row stays locked until commit), and
# caches of catalog data compare against it.
catalog_state = Table(
    "catalog_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
    # Moved only by loads that touch settings, stores, views, accounts, users, custom fields
    # or operations: what callers and their context are read from. A load of offers alone
    # leaves cached callers valid.
    Column("access_version", BigInteger, nullable=False, server_default="0"),
)

stores = Table(
    "stores",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("name", String(256), nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
)

store_views = Table(
    "store_views",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("store_id", ForeignKey("stores.id"), nullable=False),
    Column("name", String(256)),
)

catalog_views = Table(
    "catalog_views",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("all_variants", Boolean, nullable=False, default=False),
)

catalog_view_variants = Table(
    "catalog_view_variants",
    metadata,
    Column("catalog_view_id", ForeignKey("catalog_views.id"), primary_key=True),
    Column("variant_id", ForeignKey("variants.id"), primary_key=True, index=True),
)

store_view_catalog_views = Table(
    "store_view_catalog_views",
    metadata,
    Column("store_view_id", ForeignKey("store_views.id"), primary_key=True),
    Column("catalog_view_id", ForeignKey("catalog_views.id"), primary_key=True),
)

suppliers = Table(
    "suppliers",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("name", String(256), nullable=False),
    Column("status", String(16), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("name", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("groups", JSON, nullable=False, default=list),
    Column("shipping_addresses", JSON, nullable=False, default=list),
)

account_stores = Table(
    "account_stores",
    metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("store_id", ForeignKey("stores.id"), primary_key=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("name", String(256)),
    Column("client_type", String(16), nullable=False),
    Column("api_key_hash", String(64), nullable=False, unique=True),
    Column("supplier_id", ForeignKey("suppliers.id")),
)

user_accounts = Table(
    "user_accounts",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)

user_stores = Table(
    "user_stores",
    metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("store_id", ForeignKey("stores.id"), primary_key=True),
)

variants = Table(
    "variants",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("sku", String(128)),
    Column("name", String(512), nullable=False),
    Column("description", Text),
    Column("classification_external_id", EXT),
    Column("product_external_id", EXT),
)

offers = Table(
    "offers",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("supplier_id", ForeignKey("suppliers.id"), nullable=False),
    Column("variant_id", ForeignKey("variants.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("available_quantity", Integer),
)

offer_prices = Table(
    "offer_prices",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("offer_id", ForeignKey("offers.id"), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("tax_rate", RATE, nullable=False),
    Column("tiers", JSON, nullable=False),
    Column("min_order_quantity", Integer),
    Column("max_order_quantity", Integer),
    Column("quantity_step", Integer, nullable=False, default=1),
    Column("valid_from", UtcDateTime()),
    Column("valid_to", UtcDateTime()),
    Column("eligible_account_ids", JSON, nullable=False, default=list),
    Column("eligible_account_groups", JSON, nullable=False, default=list),
)

operations = Table(
    "operations",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("name", String(256)),
    Column("status", String(16), nullable=False),
    Column("type", String(16), nullable=False),
    Column("start_date", UtcDateTime()),
    Column("end_date", UtcDateTime()),
    Column("account_ids", JSON, nullable=False, default=list),
    Column("lines", JSON, nullable=False, default=list),
)

custom_fields = Table(
    "custom_fields",
    metadata,
    Column("id", Integer, primary_key=True),
    _ext(),
    Column("name", String(256)),
    Column("entity", String(16), nullable=False),
    Column("type", String(16), nullable=False),
    Column("required", Boolean, nullable=False, default=False),
    Column("allowed_values", JSON, nullable=False, default=list),
)

commercial_orders = Table(
    "commercial_orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("external_id", EXT, unique=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("customer_user_id", ForeignKey("users.id"), nullable=False),
    Column("store_id", ForeignKey("stores.id"), nullable=False),
    Column("store_view_id", ForeignKey("store_views.id")),
    Column("is_validated", Boolean, nullable=False, default=False),
    Column("validated_at", UtcDateTime()),
    Column("checkout_type", _enum(CheckoutType), nullable=False),
    Column("source_type", _enum(SourceType)),
    Column("source_id", EXT),
    Column("is_full", Boolean, nullable=False, default=False),
    Column("currency", String(3), nullable=False),
    Column("total_net", MONEY, nullable=False),
    Column("total_tax", MONEY, nullable=False),
    Column("total_gross", MONEY, nullable=False),
    Column("product_count", Integer, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("custom_fields", JSON, nullable=False, default=dict),
    Column("version", Integer, nullable=False),
    Column("cpq_transaction_id", String(128)),
    Column("cpq_sync_status", String(32)),
    Column("cpq_last_synced_at", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
# The shop list filters by account and store, sorts by one column, then by reference. Each
# index hands a page over in that order, so a page reads ~20 rows whatever the account's size,
# and the count reads an index alone. Nulls sort last both ways: PostgreSQL gets a
# `DESC NULLS LAST` twin for the nullable columns (SQLite cannot declare one, and sorts its
# small lists itself).
_co = commercial_orders.c
_by_reference = func.lower(_co.reference)
for _name, _col, _then in (
    ("created_at", _co.created_at, ()),
    ("updated_at", _co.updated_at, ()),
    ("validated_at", _co.validated_at, ()),
    ("source_type", _co.source_type, (_by_reference,)),
    ("source_id", _co.source_id, (_by_reference,)),
):
    Index(
        f"ix_commercial_orders_account_store_{_name}", _co.account_id, _co.store_id, _col, *_then
    )
    if _col.nullable:
        Index(
            f"ix_commercial_orders_account_store_{_name}_desc",
            _co.account_id,
            _co.store_id,
            _col.desc().nulls_last(),
            *_then,
        ).ddl_if(dialect="postgresql")
Index(
    "ix_commercial_orders_account_store_lower_reference",
    _co.account_id,
    _co.store_id,
    _by_reference,
)

logistic_orders = Table(
    "logistic_orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "commercial_order_id",
        ForeignKey("commercial_orders.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("reference", String(40), nullable=False, unique=True),
    Column("external_id", EXT, unique=True),
    Column("supplier_id", ForeignKey("suppliers.id"), nullable=False, index=True),
    Column("supplier_external_id", EXT, nullable=False),
    Column("status", _enum(LogisticOrderStatus), nullable=False, index=True),
    Column("shipping_address", JSON),
    Column("total_net", MONEY, nullable=False),
    Column("total_tax", MONEY, nullable=False),
    Column("total_gross", MONEY, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "logistic_order_id",
        ForeignKey("logistic_orders.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("external_id", EXT, unique=True),
    Column("variant_id", ForeignKey("variants.id"), nullable=False),
    Column("variant_external_id", EXT, nullable=False),
    Column("offer_price_id", ForeignKey("offer_prices.id"), nullable=False),
    Column("offer_price_external_id", EXT, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("net_unit_price", MONEY, nullable=False),
    Column("gross_unit_price", MONEY, nullable=False),
    Column("tax_rate", RATE, nullable=False),
    Column("tax_amount", MONEY, nullable=False),
    Column("total_net", MONEY, nullable=False),
    Column("total_gross", MONEY, nullable=False),
    Column("variant_name", String(512), nullable=False),
    Column("variant_description", Text),
    Column("classification_external_id", EXT),
    Column("custom_fields", JSON, nullable=False, default=dict),
    Column("cpq_txn_line_number", String(64)),
    Column("cpq_unit_price", MONEY),
    Column("cpq_charges", JSON),
    Column("cpq_sync_info", JSON),
    UniqueConstraint("logistic_order_id", "offer_price_id", name="uq_order_lines_lo_offer_price"),
    # A page keeps 30 % free for its rows' next versions: a synchronise rewrites every line
    # of an order, and an update that fits its page touches no index (migration 0010).
    postgresql_with={"fillfactor": 70},
)

# One CPQ push in flight per order, across processes and machines: a push takes the row (or
# an expired one) in a short transaction of its own before calling CPQ, and deletes it after.
# A holder that died leaves a row that expires.
cpq_push_leases = Table(
    "cpq_push_leases",
    metadata,
    Column(
        "order_id",
        ForeignKey("commercial_orders.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("holder", String(64), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)


# --- CSV import jobs (SPEC §4) -----------------------------------------------------------------

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("status", String(24), nullable=False),
    Column("file_name", String(256)),
    Column("columns", JSON, nullable=False),
    Column("partitions", Integer, nullable=False),
    Column("total", Integer, nullable=False, default=0),
    Column("processed", Integer, nullable=False, default=0),
    Column("succeeded", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("created_by", ForeignKey("users.id")),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime()),
    Column("finished_at", UtcDateTime()),
)

# The uploaded rows, staged (COPY on PostgreSQL) before any is applied. A refused row's result
# is written in the transaction that applies its chunk; a row that succeeded has none of its
# own: it is at or before its partition's checkpoint (import_checkpoints).
import_rows = Table(
    "import_rows",
    metadata,
    # The job's id, with no foreign key (migration 0012): its per-row check was 3.1 µs of
    # the 6.9 a staged row cost PostgreSQL's COPY. Rows are written only by the upload, in
    # the transaction that adds their job, and are the job's to delete with it.
    Column("job_id", String(36), nullable=False),
    Column("line_number", Integer, nullable=False),
    # Rows of one commercial order share a partition, and partitions run in parallel.
    Column("partition", Integer, nullable=False),
    Column("order_key", Text, nullable=False),  # the order as the row names it
    Column("line_key", Text, nullable=False),  # the line as the row names it
    Column("cells", JSON, nullable=False),
    Column("extra_fields", Integer, nullable=False, default=0),  # cells past the header's
    Column("result", String(8)),
    Column("error_code", String(64)),
    Column("error_message", Text),
    # One index, the key a partition's rows are read by, in file order (migration 0012): a
    # second one, (job, line), cost each staged row 1.8 µs; the report sorts by line.
    PrimaryKeyConstraint("job_id", "partition", "line_number"),
)

# Per partition of a job, the last line applied: moved in the transaction that applies a
# chunk, so it is the partition's checkpoint (a resumed run starts after it), and locked by
# the chunk that moves it (two runs of one partition never apply the same rows).
import_checkpoints = Table(
    "import_checkpoints",
    metadata,
    Column("job_id", ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("done_through", Integer, nullable=False, default=0),
)

# A dry run applies nothing: what its rows would have changed is kept here, per commercial
# order, so later rows of the same file see it (and a resumed dry run too).
import_dry_run_orders = Table(
    "import_dry_run_orders",
    metadata,
    Column("job_id", ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("order_id", Integer, primary_key=True),
    Column("state", JSON, nullable=False),
)


# Idempotency keys (SPEC §7): per caller, the first request's fingerprint and, once it has
# answered, its answer. A key is taken with one INSERT … ON CONFLICT in a short transaction
# of its own; `locked_until` (renewed while the request runs) lets a repeat take over a key
# whose process died. Rows past `expires_at` are purged a few at a time by new keys.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),  # sha256, hex
    Column("state", String(16), nullable=False),
    Column("holder", String(32), nullable=False),  # the running request's claim
    Column("response_status", Integer),
    Column("response_headers", JSON),
    Column("response_body", LargeBinary),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
    Column("locked_until", UtcDateTime()),
)


# One entry per write to an order (SPEC §7), in the write's own transaction.
order_history = Table(
    "order_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    # The order's id, with no foreign key (migration 0013): the history is append-only,
    # written only in the transaction that locked and wrote its order, and no code deletes
    # an order; the key's check was 3.3 µs of the 8.7 an entry took to COPY in, and an
    # import writes one entry per row.
    Column("order_id", Integer, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor_user_external_id", EXT),
    Column("actor_client_type", String(16)),
    Column("source", String(16), nullable=False),
    Column("job_id", String(36)),
    Column("line_number", Integer),
    Column("request_id", String(64)),
    Column("version_before", Integer, nullable=False),
    Column("version_after", Integer, nullable=False),
    # Compressed with lz4 on PostgreSQL where the server has it (migration 0011): a big
    # order's synchronise writes one entry of several hundred kilobytes.
    Column("changes", JSON, nullable=False),
    Index("ix_order_history_order_id", "order_id", "id"),
)
