#!/usr/bin/env bash
# Submit one training run to Azure Machine Learning: deploy/training/submit-azureml.sh APP DATA_URL [EPOCHS]
# Needs: az CLI with the `ml` extension, AZURE_STORAGE_CONNECTION_STRING in the environment (or set
# CHATBOT_KEYVAULT and CHATBOT_STORAGE_SECRET to read it from Key Vault), and AZUREML_WORKSPACE / AZUREML_RESOURCE_GROUP.
set -euo pipefail
app=${1:?usage: submit-azureml.sh APP DATA_URL [EPOCHS]}
data=${2:?usage: submit-azureml.sh APP DATA_URL [EPOCHS]}
epochs=${3:-40}
if [[ -z "${AZURE_STORAGE_CONNECTION_STRING:-}" && -n "${CHATBOT_KEYVAULT:-}" ]]; then
  AZURE_STORAGE_CONNECTION_STRING=$(az keyvault secret show --vault-name "$CHATBOT_KEYVAULT" \
    --name "${CHATBOT_STORAGE_SECRET:-chatbot-storage}" --query value -o tsv)
fi
: "${AZURE_STORAGE_CONNECTION_STRING:?set AZURE_STORAGE_CONNECTION_STRING or CHATBOT_KEYVAULT}"
here=$(cd "$(dirname "$0")" && pwd)
az ml job create --file "$here/azureml-job.yml" \
  --workspace-name "${AZUREML_WORKSPACE:?}" --resource-group "${AZUREML_RESOURCE_GROUP:?}" \
  --set inputs.app="$app" inputs.data="$data" inputs.epochs="$epochs" \
  --set environment_variables.AZURE_STORAGE_CONNECTION_STRING="$AZURE_STORAGE_CONNECTION_STRING" \
  --query name -o tsv
