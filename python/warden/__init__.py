"""warden: native-speed authentication and authorization for Python web apps."""
from warden._core import __version__

__all__ = ["__version__"]
