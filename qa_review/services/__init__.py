"""Use cases by capability: permissions and policy numbers live here."""
