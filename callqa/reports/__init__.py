"""Reports for people: the per-manager KPI table and a one-call summary (terminal); HTML, PDF and charts come here."""

from callqa.reports.terminal import print_call, print_manager_summary

__all__ = ["print_call", "print_manager_summary"]
