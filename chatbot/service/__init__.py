"Layer 2, the LUIS-compatible prediction service: response shapes and the Flask/gunicorn server."
