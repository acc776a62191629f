"""Request and answer bodies of the HTTP API, per area (camelCase on the wire)."""
