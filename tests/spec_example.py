"""The data bundle example of SPEC §6, verbatim."""

SPEC_EXAMPLE = """
{
  "settings": {"pricingMode": "STANDARD", "pricingUrl": null, "cpqUrl": null,
               "defaultStore": "STORE-EU", "currency": "EUR", "operationsEnabled": true},
  "stores": [{"externalId": "STORE-EU", "name": "Europe", "default": true}],
  "catalogViews": [{"externalId": "CV-ALL", "allVariants": true},
                   {"externalId": "CV-PRO", "variants": ["V-1", "V-2"]}],
  "storeViews": [{"externalId": "SV-FR", "store": "STORE-EU", "catalogViews": ["CV-ALL"]}],
  "suppliers": [{"externalId": "SUP-A", "name": "Acme", "status": "ACTIVE"}],
  "accounts": [{"externalId": "ACC-1", "name": "Buyer Co", "status": "ACTIVE",
                "stores": ["STORE-EU"], "groups": ["GOLD"],
                "shippingAddresses": [{"externalId": "ADDR-1", "fullName": "Jane Doe",
                  "streetName": "1 rue de la Paix", "city": "Paris", "zipCode": "75002",
                  "country": "FR", "state": null, "additional": null}]}],
  "users": [{"externalId": "U-1", "clientType": "ACCOUNT", "apiKey": "plain-key-1",
             "accounts": ["ACC-1"], "stores": ["STORE-EU"]},
            {"externalId": "OPS-USER", "clientType": "OPERATOR", "apiKey": "plain-key-op"}],
  "variants": [{"externalId": "V-1", "sku": "SKU-1", "name": "Bolt M6", "description": "Steel bolt",
                "classification": "CLS-FASTENERS", "product": "P-1"}],
  "offers": [{"externalId": "OFR-1", "supplier": "SUP-A", "variant": "V-1", "status": "ACTIVE",
              "stock": 500,
              "prices": [{"externalId": "OP-1", "currency": "EUR", "taxRate": "20",
                          "tiers": [{"minQuantity": 1, "netUnitPrice": "1.20", "grossUnitPrice": "1.50"},
                                    {"minQuantity": 100, "netUnitPrice": "1.00", "grossUnitPrice": "1.50"}],
                          "minOrderQuantity": 10, "maxOrderQuantity": 1000, "quantityStep": 10,
                          "validFrom": null, "validTo": null, "accounts": [], "accountGroups": []}]}],
  "operations": [{"externalId": "OPN-1", "status": "ACTIVE", "type": "PUBLIC",
                  "startDate": "2026-01-01T00:00:00Z", "endDate": "2027-01-01T00:00:00Z",
                  "accounts": [], "lines": [{"variant": "V-1", "minQuantity": 20,
                                             "maxQuantity": 200, "recommendedQuantity": 50}]}],
  "customFields": [{"externalId": "CF-PO", "entity": "ORDER", "type": "STRING",
                    "required": false, "allowedValues": []}]
}
"""  # noqa: E501 - verbatim from the SPEC
