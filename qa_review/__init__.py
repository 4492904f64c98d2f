"""qa-review: quality review of contact-center calls, locally."""

__version__ = "0.1.0"
