"""The API's operations: handlers, request validation derived from the spec, video objects, test control."""
