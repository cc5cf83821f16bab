"""The admin API under `/__admin`, the request journal, the console and the documents."""
