"""Deliberately faulty A2V servers: the mock with exactly one fault each."""
