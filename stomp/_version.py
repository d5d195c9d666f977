"""The versions, in one place (the package, its metadata and the docs read them here)."""

#: The stomp.py API level stomp-ng matches; ``stomp.__version__``.
API_VERSION = "9.0.0"

#: The version of the stomp-ng distribution itself; ``stomp.__ng_version__``.
__version__ = "0.1.0"
