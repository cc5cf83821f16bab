"""Start-up and composition: the CLI, settings overlays, checks, the lock and the app factory.

The top of the mock: it builds every service (`services.build_services`) and the app; nothing
below imports it."""
