"""Eastern Region Needs Audit: the library behind the dashboard and the `audit` command.

Everything the app shows is computed here; `pages/` only bind widgets to these
functions. Nothing in this package imports streamlit.
"""

__version__ = "0.1.0"
