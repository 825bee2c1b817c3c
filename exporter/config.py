"""Strict YAML configuration.

Every check family reads its settings from here; nothing else parses config. Unknown keys are
rejected and every problem is reported at once with its key path, so an operator fixes a broken
file in one round trip instead of one error per restart.
"""

from __future__ import annotations

import ipaddress
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_HTTP_URL = re.compile(r"^https?://[^/\s]+/?$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$")


class ConfigError(Exception):
    """All problems of one config file; each entry is one 'key.path: message' line."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_duration(value: Any) -> float:
    """Go-style durations (`30s`, `1m30s`, `500ms`) as Prometheus users write them."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError("not a duration (use a string such as 30s or 5m)")
    text = value.strip()
    if not text or _DURATION.sub("", text):
        raise ValueError(f"not a duration: {value!r} (use units ms, s, m, h, d)")
    seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(text))
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {value!r}")
    return seconds


def split_host_port(value: str, default_port: int) -> tuple[str, int]:
    """Accept `host`, `host:port`, `[v6]:port` and a bare IPv6 address."""
    text = value.strip()
    host, port = text, default_port
    if text.startswith("["):
        match = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", text)
        if not match:
            raise ValueError("not a host or host:port")
        host, port = match.group(1), int(match.group(2) or default_port)
    elif text.count(":") == 1:
        host, _, raw = text.partition(":")
        if not raw.isdigit():
            raise ValueError("not a host or host:port")
        port = int(raw)
    if not 0 < port < 65536:
        raise ValueError("port out of range 1-65535")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise ValueError("not a host or host:port") from None
    return host, port


M = TypeVar("M", bound=BaseModel)
Duration = Annotated[float, BeforeValidator(parse_duration)]
OptDuration = Annotated[float | None, BeforeValidator(lambda v: None if v is None else parse_duration(v))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(Strict):
    """An HTTPS endpoint; `server_name` is the SNI and verification name (VPC endpoint DNS)."""

    host: str
    port: int = Field(443, gt=0, lt=65536)
    server_name: str | None = None
    ca_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            host, port = split_host_port(value, 443)
            return {"host": host, "port": port}
        if isinstance(value, dict) and isinstance(value.get("host"), str):
            split_host_port(value["host"], 443)
        return value

    @property
    def verify_name(self) -> str:
        return self.server_name or self.host


def _checked(pattern: re.Pattern[str], message: str):
    def check(value: Any) -> Any:
        if value is not None and not (isinstance(value, str) and pattern.match(value)):
            raise ValueError(message)
        return value

    return BeforeValidator(check)


HttpUrl = Annotated[str, _checked(_HTTP_URL, "not an http(s)://host[:port] URL")]
Region = Annotated[str | None, _checked(REGION, "not an AWS region name such as us-east-1")]


def _ntp_server(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a host or host:port")
    split_host_port(value, 123)
    return value


class Family(Strict):
    enabled: bool = True
    interval: OptDuration = None
    timeout: OptDuration = None


class HttpDate(Strict):
    enabled: bool = True
    targets: list[Target] = []


class Kernel(Strict):
    enabled: bool = True


class Clock(Family):
    interval: OptDuration = 15.0
    servers: list[Annotated[str, BeforeValidator(_ntp_server)]] = ["169.254.169.123", "time.aws.com"]
    samples: int = Field(3, ge=1, le=16)
    max_offset: Duration = 300.0
    http_date: HttpDate = HttpDate()
    kernel: Kernel = Kernel()


class Endpoints(Family):
    services: list[Literal["ssm", "ssmmessages", "ec2messages", "s3", "kms", "logs", "monitoring"]] = [
        "ssm",
        "ssmmessages",
        "ec2messages",
    ]
    targets: list[Target] = []
    proxy: HttpUrl | None = None


class Agent(Family):
    process_names: list[str] = ["amazon-ssm-agent", "ssm-agent-worker", "AmazonSSMAgent", "amazon-ssm-agent.exe"]
    binary_paths: list[Path] = [
        Path("/usr/bin/amazon-ssm-agent"),
        Path("/snap/amazon-ssm-agent/current/amazon-ssm-agent"),
        Path("/usr/local/bin/amazon-ssm-agent"),
        Path("C:/Program Files/Amazon/SSM/amazon-ssm-agent.exe"),
    ]


class AgentLog(Family):
    paths: list[Path] = [
        Path("/var/log/amazon/ssm/amazon-ssm-agent.log"),
        Path("/var/log/amazon/ssm/errors.log"),
        Path("C:/ProgramData/Amazon/SSM/Logs/amazon-ssm-agent.log"),
        Path("C:/ProgramData/Amazon/SSM/Logs/errors.log"),
    ]


class Imds(Family):
    url: HttpUrl = "http://169.254.169.254"
    allow_imdsv1: bool = False


class EndpointUrls(Strict):
    sts: HttpUrl | None = None
    ssm: HttpUrl | None = None


class Aws(Family):
    endpoint_urls: EndpointUrls = EndpointUrls()
    max_attempts: int = Field(3, ge=1, le=10)


class Fleet(Family):
    enabled: bool = False
    interval: OptDuration = 60.0
    page_size: int = Field(50, ge=5, le=50)


class Config(Strict):
    region: Region = None
    interval: Duration = 30.0
    timeout: Duration = 5.0
    workers: int = Field(8, ge=1, le=64)
    clock: Clock = Clock()
    endpoints: Endpoints = Endpoints()
    agent: Agent = Agent()
    agent_log: AgentLog = AgentLog()
    imds: Imds = Imds()
    aws: Aws = Aws()
    fleet: Fleet = Fleet()

    def family(self, name: str) -> Family:
        return getattr(self, name)

    def interval_of(self, name: str) -> float:
        return self.family(name).interval or self.interval

    def timeout_of(self, name: str) -> float:
        return self.family(name).timeout or self.timeout


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# pydantic's names for union members and validators, which it puts into error locations
_VALIDATOR_TAG = re.compile(r"^(str|Target|(function|json-or-python|nullable)-\w+\[.*\])$")


def _key_path(loc: tuple[Any, ...]) -> str:
    """`clock.servers[1]`; a key that is no plain name is quoted (`clock['a b']`)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _VALIDATOR_TAG.fullmatch(str(part)):
            continue
        elif _IDENTIFIER.fullmatch(str(part)):
            path += f".{part}" if path else str(part)
        else:
            path += f"[{str(part)!r}]"
    return path or "(top level)"


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key missing"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    message = " ".join(message.split())
    return message[0].lower() + message[1:]


def validate(model: type[M], text: str) -> M:
    """YAML text into `model`, every problem collected as one 'key.path: message' line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(getattr(err, "problem", None) or err).split())
        raise ConfigError([f"not valid YAML{where}: {problem}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["(top level): must be a mapping of keys"])
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            line = f"{_key_path(error['loc'])}: {_message(error)}"
            if line not in problems:
                problems.append(line)
        raise ConfigError(problems) from None


def read(path: Path) -> str:
    try:
        return Path(path).read_text()
    except OSError as err:
        raise ConfigError([f"cannot read {path}: {err.strerror}"]) from None


def parse(text: str) -> Config:
    return validate(Config, text)


def load(path: Path | None) -> Config:
    """Read `path`, or the embedded default (instance mode on EC2) when none is given."""
    if path is None:
        return parse(resources.files("exporter").joinpath("default.yml").read_text())
    return parse(read(path))
