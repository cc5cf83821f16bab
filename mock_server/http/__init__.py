"""The request path: one pipeline from uvicorn to the handler, the routing table, the server protocol."""
