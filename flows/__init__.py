"""Prefect flows: thin orchestration over callqa's library functions."""
