# The riskwatch image: every service of docker-compose.yml runs one `riskwatch` command in it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# CJK font for exports and dashboard screenshots (pipeline/fonts.py)
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY pipeline ./pipeline
COPY streams ./streams
COPY dashboards ./dashboards
COPY config ./config
# Editable: the code finds config/ beside its packages (pipeline/settings.py PROJECT_ROOT = /app).
# constraints.txt: the versions the test suite passed with.
RUN pip install -c constraints.txt -e .
RUN useradd --system --uid 10001 riskwatch
USER riskwatch
CMD ["riskwatch", "--help"]
