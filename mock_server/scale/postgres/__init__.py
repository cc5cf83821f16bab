"""The PostgreSQL store, one module per job over one connection pool."""
