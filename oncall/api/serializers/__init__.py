"""Serializers of the on-call API: shapes only, no writes (one module per concept)."""
