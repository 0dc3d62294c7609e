"""Reads of the database, one module per reader: the batch planner, re-scoring, reports."""
