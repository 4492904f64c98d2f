"""The pure domain: types, checklists, matching, scoring, metrics and rules. Imports no other layer;
no database, UI or file IO."""
