"""The data bundle (SPEC §6): one JSON document describing the catalog, parsed and checked.

Keys are camelCase as in the SPEC (Python code may use the snake_case names). Unknown keys are
ignored so a newer bundle still loads on an older server, and every top-level key is optional so
a partial bundle loads. Entities refer to each other by external id; whether those references
exist is the loader's business, since they may point at rows of an earlier load.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ordersync.domain.access import ClientType
from ordersync.domain.catalog import (
    CustomFieldEntity,
    CustomFieldType,
    OperationStatus,
    OperationType,
    Status,
)
from ordersync.domain.money import MAX_TAX_RATE, MAX_UNIT_PRICE
from ordersync.domain.orders import CheckoutType
from ordersync.domain.tenant import PricingMode


def _number_as_text(value: object) -> object:
    # Through str() a JSON number 1.2 becomes Decimal("1.2"), not the float's binary expansion.
    if isinstance(value, bool):
        raise ValueError("expected a decimal string or number, not a boolean")
    if isinstance(value, int | float):
        return str(value)
    return value


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Url = Annotated[str, StringConstraints(min_length=1, max_length=512)]
# Four decimals as in the MONEY and RATE columns (PostgreSQL never rounds silently); the
# bounds keep every total the rules compute inside those columns (domain/money.py).
Money = Annotated[
    Decimal,
    BeforeValidator(_number_as_text),
    Field(ge=0, le=MAX_UNIT_PRICE, decimal_places=4, allow_inf_nan=False),
]
Rate = Annotated[
    Decimal,
    BeforeValidator(_number_as_text),
    Field(ge=0, le=MAX_TAX_RATE, decimal_places=4, allow_inf_nan=False),
]
Quantity = Annotated[int, Field(ge=0, le=2**31 - 1)]  # the columns are 32-bit integers
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class BundleModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class BundleSettings(BundleModel):
    pricing_mode: PricingMode = PricingMode.STANDARD
    pricing_url: Url | None = None
    cpq_url: Url | None = None
    default_store: ExternalId | None = None
    currency: Currency = "EUR"
    operations_enabled: bool = True


class BundleStore(BundleModel):
    external_id: ExternalId
    name: Name
    is_default: bool = Field(default=False, alias="default")


class BundleCatalogView(BundleModel):
    external_id: ExternalId
    all_variants: bool = False
    variants: list[ExternalId] = Field(default_factory=list)


class BundleStoreView(BundleModel):
    external_id: ExternalId
    store: ExternalId
    name: Name | None = None
    catalog_views: list[ExternalId] = Field(default_factory=list)


class BundleSupplier(BundleModel):
    external_id: ExternalId
    name: Name
    status: Status = Status.ACTIVE


class ShippingAddress(BundleModel):
    external_id: str | None = None
    full_name: str | None = None
    street_name: str | None = None
    city: str | None = None
    zip_code: str | None = None
    country: str | None = None
    state: str | None = None
    additional: str | None = None


class BundleAccount(BundleModel):
    external_id: ExternalId
    name: Name
    status: Status = Status.ACTIVE
    stores: list[ExternalId] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    shipping_addresses: list[ShippingAddress] = Field(default_factory=list)


class BundleUser(BundleModel):
    external_id: ExternalId
    client_type: ClientType
    # SecretStr keeps the plain key out of reprs and logs; the loader stores only its hash.
    api_key: Annotated[SecretStr, Field(min_length=1)]
    name: Name | None = None
    accounts: list[ExternalId] = Field(default_factory=list)
    stores: list[ExternalId] = Field(default_factory=list)
    supplier: ExternalId | None = None

    @model_validator(mode="after")
    def _supplier_users_name_their_supplier(self) -> BundleUser:
        if self.client_type is ClientType.SUPPLIER and self.supplier is None:
            raise ValueError("a SUPPLIER user needs a supplier")
        return self


class BundleVariant(BundleModel):
    external_id: ExternalId
    sku: Annotated[str, StringConstraints(max_length=128)] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    description: str | None = None
    classification: ExternalId | None = None
    product: ExternalId | None = None


class BundlePriceTier(BundleModel):
    min_quantity: Quantity
    net_unit_price: Money
    gross_unit_price: Money


class BundleOfferPrice(BundleModel):
    external_id: ExternalId
    currency: Currency
    tax_rate: Rate
    tiers: list[BundlePriceTier] = Field(min_length=1)
    min_order_quantity: Quantity | None = None
    max_order_quantity: Quantity | None = None
    quantity_step: int = Field(default=1, ge=1, le=2**31 - 1)  # a 32-bit column
    valid_from: UtcDatetime | None = None
    valid_to: UtcDatetime | None = None
    accounts: list[ExternalId] = Field(default_factory=list)
    account_groups: list[str] = Field(default_factory=list)


class BundleOffer(BundleModel):
    external_id: ExternalId
    supplier: ExternalId
    variant: ExternalId
    status: Status = Status.ACTIVE
    stock: Quantity | None = None  # None: unlimited
    prices: list[BundleOfferPrice] = Field(default_factory=list)


class BundleOperationLine(BundleModel):
    variant: ExternalId
    min_quantity: Quantity | None = None
    max_quantity: Quantity | None = None
    recommended_quantity: Quantity | None = None


class BundleOperation(BundleModel):
    external_id: ExternalId
    name: Name | None = None
    status: OperationStatus
    type: OperationType
    start_date: UtcDatetime | None = None
    end_date: UtcDatetime | None = None
    accounts: list[ExternalId] = Field(default_factory=list)
    lines: list[BundleOperationLine] = Field(default_factory=list)


class BundleCustomField(BundleModel):
    external_id: ExternalId
    name: Name | None = None
    entity: CustomFieldEntity
    type: CustomFieldType
    required: bool = False
    allowed_values: list[str] = Field(default_factory=list)


class BundleOrderLine(BundleModel):
    offer_price: ExternalId
    quantity: int = Field(gt=0, le=1_000_000_000)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class BundleOrder(BundleModel):
    """A commercial order to create from the bundle (demo data); `placed` validates it."""

    external_id: ExternalId
    reference: Annotated[str, StringConstraints(pattern=r"^\d{3}-\d{3}-\d{7}$")] | None = None
    account: ExternalId
    user: ExternalId
    store: ExternalId | None = None  # None: the default store
    store_view: ExternalId | None = None
    checkout_type: CheckoutType = CheckoutType.ORDER_BASED
    operation: ExternalId | None = None
    is_full: bool = False
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    lines: list[BundleOrderLine] = Field(default_factory=list)
    placed: bool = False


class DataBundle(BundleModel):
    settings: BundleSettings | None = None
    stores: list[BundleStore] = Field(default_factory=list)
    catalog_views: list[BundleCatalogView] = Field(default_factory=list)
    store_views: list[BundleStoreView] = Field(default_factory=list)
    suppliers: list[BundleSupplier] = Field(default_factory=list)
    accounts: list[BundleAccount] = Field(default_factory=list)
    users: list[BundleUser] = Field(default_factory=list)
    variants: list[BundleVariant] = Field(default_factory=list)
    offers: list[BundleOffer] = Field(default_factory=list)
    operations: list[BundleOperation] = Field(default_factory=list)
    custom_fields: list[BundleCustomField] = Field(default_factory=list)
    orders: list[BundleOrder] = Field(default_factory=list)
