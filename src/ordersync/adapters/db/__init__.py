"""SQLAlchemy persistence: tables, repositories, unit of work."""
