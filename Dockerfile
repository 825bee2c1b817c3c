# syntax=docker/dockerfile:1
# Build stage: a wheel of this project, installed with its dependencies into a venv under /opt.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/ssm-exporter \
 && /opt/ssm-exporter/bin/pip install --no-cache-dir /wheels/*.whl \
 && /opt/ssm-exporter/bin/ssm-exporter --config.check

# Runtime stage: the venv only; no compiler, no pip cache, no write access needed.
FROM python:3.11-slim
COPY --from=build /opt/ssm-exporter /opt/ssm-exporter
ENV PATH=/opt/ssm-exporter/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Fixed non-root UID/GID: matches file permissions and PodSecurity runAsUser without guessing.
USER 10123:10123
EXPOSE 10123
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:10123/-/healthy', timeout=4)"]
ENTRYPOINT ["ssm-exporter"]
