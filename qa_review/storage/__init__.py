"""The only code that touches SQLite: the schema and one repository per aggregate."""
