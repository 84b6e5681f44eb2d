"""Airbyte source for the Aircall calls and recordings that Salescaling imports."""

from source_aircall_salescaling.source import SourceAircallSalescaling

__all__ = ["SourceAircallSalescaling"]
