"""Everything that exists only when scaled out: PostgreSQL, Celery on RabbitMQ, S3, the worker.

The embedded packages never import this one; only the composition root (`runtime`) chooses it."""
