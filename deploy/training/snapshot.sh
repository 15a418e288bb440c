#!/usr/bin/env bash
# Upload a data snapshot of a store app to Blob Storage for a remote run: deploy/training/snapshot.sh APP [CONTAINER]
# Prints the azure-blob:// URL to pass to submit-azureml.sh. Uses the app store of this machine (CHATBOT_STORE_URL).
set -euo pipefail
app=${1:?usage: snapshot.sh APP [CONTAINER]}
container=${2:-training-data}
: "${AZURE_STORAGE_CONNECTION_STRING:?set AZURE_STORAGE_CONNECTION_STRING}"
stamp=$(date -u +%Y%m%d-%H%M%S)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chatbot app export "$app" "$dir/train.jsonl"
python - "$dir/train.jsonl" "$container" "snapshots/$app-$stamp/train.jsonl" <<'PY'
import os, sys
from azure.storage.blob import ContainerClient
from azure.core.exceptions import ResourceExistsError
cc = ContainerClient.from_connection_string(os.environ['AZURE_STORAGE_CONNECTION_STRING'], sys.argv[2])
try: cc.create_container()
except ResourceExistsError: pass
with open(sys.argv[1], 'rb') as f: cc.upload_blob(sys.argv[3], f)
PY
echo "azure-blob://$container/snapshots/$app-$stamp/"
