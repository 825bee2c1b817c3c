"""ssm-exporter: catches the silent causes of AWS SSM Agent "Connection Lost", clock skew first."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ssm-exporter")
except PackageNotFoundError:
    __version__ = "0.0.0+unknown"
