"""Adapters: implementations of ``commerce_core.ports`` for real infrastructure."""
