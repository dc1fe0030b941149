"""The package version, read by the build backend and sent in X-Pusher-Library."""

__version__ = "0.1.0"
