"""xltool: templates, checks, merges and documents for the Government Information Disclosure Annual Report."""

__version__ = "0.1.0"
